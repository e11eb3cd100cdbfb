// The fused decode split kernel over int4 rows, per scale type.
#include "kernels/decode_split_kernel.cuh"

namespace kvlab::kernels::cuda::decode {

void LaunchInt4Split(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream) {
  switch (args.keys.scale_encoding) {
    case Encoding::kBFloat16:
      return LaunchSplitDim<LevelRows<4>, __nv_bfloat16>(dim, args, grid, stream);
    case Encoding::kFloat16:
      return LaunchSplitDim<LevelRows<4>, __half>(dim, args, grid, stream);
    default:
      return LaunchSplitDim<LevelRows<4>, float>(dim, args, grid, stream);
  }
}

}  // namespace kvlab::kernels::cuda::decode
