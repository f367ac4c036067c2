# Tokenizer encode benchmark (docs/tokenizer.md). Include from bench/CMakeLists.txt:
#   include(${CMAKE_CURRENT_LIST_DIR}/tokenizer.cmake)
add_executable(tokenizer_bench ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bench.cc)
target_link_libraries(tokenizer_bench PRIVATE longcat_core)
target_compile_definitions(tokenizer_bench PRIVATE LONGCAT_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
