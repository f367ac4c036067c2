// Binding a block's tensor ids to pointers into the weight arrays (const) or a gradient buffer (mutable).
#pragma once
#include <vector>

#include "train/mla_block.h"
#include "train/param_table.h"
#include "train/train_math.h"

namespace longcat::train {

template <class T>
MlaRefs<const T*> refs(const MlaIds& i, const ParamArrays<T>& a) {
  return {a[i.q_a].data(), a[i.q_a_norm].data(), a[i.q_b].data(), a[i.kv_a].data(),
          a[i.kv_a_norm].data(), a[i.kv_b].data(), a[i.o].data()};
}
template <class T>
MlaRefs<T*> refs(const MlaIds& i, ParamArrays<T>& a) {
  return {a[i.q_a].data(), a[i.q_a_norm].data(), a[i.q_b].data(), a[i.kv_a].data(),
          a[i.kv_a_norm].data(), a[i.kv_b].data(), a[i.o].data()};
}
template <class T>
MlpRefs<const T*> refs(const MlpIds& i, const ParamArrays<T>& a) {
  return {a[i.gate].data(), a[i.up].data(), a[i.down].data()};
}
template <class T>
MlpRefs<T*> refs(const MlpIds& i, ParamArrays<T>& a) {
  return {a[i.gate].data(), a[i.up].data(), a[i.down].data()};
}
template <class T, class Store>
auto expert_refs(const std::vector<MlpIds>& ids, Store& a) {
  std::vector<decltype(refs<T>(ids[0], a))> out;
  for (const MlpIds& i : ids) out.push_back(refs<T>(i, a));
  return out;
}

}  // namespace longcat::train
