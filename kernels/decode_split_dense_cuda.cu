// The fused decode split kernel over dense fp32, fp16 and bf16 rows.
#include "kernels/decode_split_kernel.cuh"

namespace kvlab::kernels::cuda::decode {

void LaunchDenseSplit(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream) {
  switch (args.keys.encoding) {
    case Encoding::kFloat16:
      return LaunchSplitDim<DenseRows<__half>, float>(dim, args, grid, stream);
    case Encoding::kBFloat16:
      return LaunchSplitDim<DenseRows<__nv_bfloat16>, float>(dim, args, grid, stream);
    default:
      return LaunchSplitDim<DenseRows<float>, float>(dim, args, grid, stream);
  }
}

}  // namespace kvlab::kernels::cuda::decode
