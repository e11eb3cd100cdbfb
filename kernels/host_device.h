// KVLAB_HOST_DEVICE marks small inline functions that the CPU kernels and (compiled by
// nvcc) the CUDA kernels both call. Internal to kernels/.
#ifndef KVLAB_KERNELS_HOST_DEVICE_H_
#define KVLAB_KERNELS_HOST_DEVICE_H_

#ifdef __CUDACC__
#define KVLAB_HOST_DEVICE __host__ __device__
#else
#define KVLAB_HOST_DEVICE
#endif

#endif  // KVLAB_KERNELS_HOST_DEVICE_H_
