#include "eval/model/ggml_matrix.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_tensor.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/model/ggml_quantize.h"
#include "eval/model/projection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using gguf::TensorType;

constexpr int64_t kRows = 48, kCols = 512;  // Two K-quant super-blocks per row.

struct TypeCase {
  TensorType type;
  const char* name;
};

const std::vector<TypeCase>& AllTypes() {
  static const auto* types = new std::vector<TypeCase>{
      {TensorType::kF32, "F32"},   {TensorType::kF16, "F16"},   {TensorType::kBF16, "BF16"},
      {TensorType::kQ4_0, "Q4_0"}, {TensorType::kQ4_1, "Q4_1"}, {TensorType::kQ5_0, "Q5_0"},
      {TensorType::kQ5_1, "Q5_1"}, {TensorType::kQ8_0, "Q8_0"}, {TensorType::kQ2_K, "Q2_K"},
      {TensorType::kQ3_K, "Q3_K"}, {TensorType::kQ4_K, "Q4_K"}, {TensorType::kQ5_K, "Q5_K"},
      {TensorType::kQ6_K, "Q6_K"}};
  return *types;
}

// A GGUF with one [kRows, kCols] tensor "w" of `type` (random values, quantized).
std::unique_ptr<gguf::GgufFile> WriteMatrix(TensorType type, const std::string& name) {
  const at::Tensor values = at::randn({kRows, kCols}, at::kFloat) * 0.05;
  const std::string floats(static_cast<const char*>(values.data_ptr()), values.nbytes());
  gguf::GgufWriter writer;
  writer.AddString("general.architecture", "test");
  absl::StatusOr<std::string> bytes = QuantizeRows(type, floats, kRows, kCols);
  EXPECT_THAT(bytes, IsOk());
  writer.AddTensor("w", {kCols, kRows}, type, bytes.ok() ? *bytes : "");
  const std::string path = ::testing::TempDir() + "/" + name + ".gguf";
  EXPECT_THAT(writer.WriteFile(path), IsOk());
  return ValueOrAddFailure(gguf::GgufFile::Open(path));
}

// How far ggml's product may be from x W^T with W dequantized exactly: ggml rounds each
// activation to the type the block format's dot product takes, and error e_k in x_k
// moves y_j by at most |W_jk| e_k. Rounding to q8 (q8_0 and q8_1: blocks of 32, scale
// amax/127 stored as fp16; q8_K: blocks of 256, scale amax/127 in fp32) is off by at
// most half a step plus, for an fp16 scale, 127 steps times its relative rounding
// (2^-11); fp16 and bf16 keep 11 and 8 significant bits. On top, fp32 sums in another
// order: 1e-5 of sum |W_jk x_k|.
at::Tensor ErrorBound(TensorType type, const at::Tensor& x, const at::Tensor& w) {
  at::Tensor e;
  const auto blockwise = [&](int64_t block, double fp16_scale) {
    const at::Tensor amax = x.view({x.size(0), -1, block}).abs().amax(-1, true);
    const at::Tensor step = amax / 127.0;
    return (step * (0.5 + 127.0 * fp16_scale)).expand({x.size(0), x.size(1) / block, block})
        .reshape(x.sizes());
  };
  switch (type) {
    case TensorType::kF32: e = at::zeros_like(x); break;
    case TensorType::kF16: e = x.abs() * std::ldexp(1.0, -11); break;
    case TensorType::kBF16: e = x.abs() * std::ldexp(1.0, -8); break;
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K: e = blockwise(256, 0.0); break;
    default: e = blockwise(32, std::ldexp(1.0, -11)); break;
  }
  return at::matmul(e, w.abs().t()) + 1e-5 * at::matmul(x.abs(), w.abs().t()) + 1e-7;
}

TEST(GgmlMatrixTest, EveryBlockTypeMultipliesAsItsDequantizedMatrixWithinQ8Rounding) {
  for (const TypeCase& c : AllTypes()) {
    SCOPED_TRACE(c.name);
    auto file = WriteMatrix(c.type, c.name);
    ASSERT_NE(file, nullptr);
    ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* info, file->FindTensor("w"));
    ASSERT_OK_AND_ASSIGN(GgmlMatrix native, GgmlMatrix::Create(file->path(), *info,
                                                               file->TensorBytes(*info)));
    EXPECT_EQ(native.rows(), kRows);
    EXPECT_EQ(native.cols(), kCols);
    EXPECT_EQ(native.ByteSize(), static_cast<int64_t>(info->byte_size));
    ASSERT_OK_AND_ASSIGN(const at::Tensor w, gguf::LoadTensor(*file, "w", {kRows, kCols},
                                                              at::kFloat));
    for (int64_t rows : {1, 7}) {  // A decode step and a prefill (ggml's gemm path).
      const at::Tensor x = at::randn({rows, kCols}, at::kFloat);
      const at::Tensor y = Projection({native}).Apply(x);
      const at::Tensor expected = at::matmul(x.to(at::kDouble), w.to(at::kDouble).t());
      const at::Tensor excess =
          (y.to(at::kDouble) - expected).abs() - ErrorBound(c.type, x.to(at::kDouble),
                                                            w.to(at::kDouble));
      EXPECT_LE(excess.max().item<double>(), 0.0) << rows << " rows";
    }
    // The embedding path: each row dequantized by ggml equals kvlab's dequantizer's.
    const at::Tensor rows = Projection({native}).Rows(at::tensor({0, 5, 47}, at::kLong));
    EXPECT_TRUE(at::equal(rows, w.index_select(0, at::tensor({0, 5, 47}, at::kLong))));
  }
}

// Lockstep batches multiply many caches' rows at once: from 8 rows on, a row's product
// does not depend on how many rows go with it (rows split between threads or not).
// Fewer rows take another of ggml's kernels for the K-quant formats (1 to 7 rows) and
// the float formats (1 row), which sums in another order: equal to fp32 rounding, not
// bit for bit (docs/results/qwen2.5_coder_1.5b.md says what that does to a comparison).
TEST(GgmlMatrixTest, ARowsProductDoesNotDependOnTheRowsBesideIt) {
  for (const TypeCase& c : AllTypes()) {
    SCOPED_TRACE(c.name);
    auto file = WriteMatrix(c.type, std::string(c.name) + "_rows");
    ASSERT_NE(file, nullptr);
    ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* info, file->FindTensor("w"));
    ASSERT_OK_AND_ASSIGN(GgmlMatrix native, GgmlMatrix::Create(file->path(), *info,
                                                               file->TensorBytes(*info)));
    const at::Tensor x = at::randn({300, kCols}, at::kFloat);
    const at::Tensor all = Projection({native}).Apply(x);
    for (int64_t rows : {8, 64}) {
      const at::Tensor some = Projection({native}).Apply(x.narrow(0, 0, rows));
      EXPECT_TRUE(at::equal(some, all.narrow(0, 0, rows)))
          << rows << " rows against 300: max difference "
          << (some - all.narrow(0, 0, rows)).abs().max().item<float>();
    }
    const at::Tensor one = Projection({native}).Apply(x.narrow(0, 0, 1));
    EXPECT_LE((one - all.narrow(0, 0, 1)).abs().max().item<float>(),
              1e-6 * all.narrow(0, 0, 1).abs().max().item<float>() * std::sqrt(kCols));
  }
}

TEST(GgmlMatrixTest, StackedPartsGiveTheirOutputsSideBySide) {
  auto a = WriteMatrix(TensorType::kQ8_0, "stack_a");
  auto b = WriteMatrix(TensorType::kQ4_K, "stack_b");
  ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* ia, a->FindTensor("w"));
  ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* ib, b->FindTensor("w"));
  ASSERT_OK_AND_ASSIGN(GgmlMatrix ma, GgmlMatrix::Create(a->path(), *ia, a->TensorBytes(*ia)));
  ASSERT_OK_AND_ASSIGN(GgmlMatrix mb, GgmlMatrix::Create(b->path(), *ib, b->TensorBytes(*ib)));
  const at::Tensor x = at::randn({2, 3, kCols}, at::kFloat);
  const Projection stacked({ma, mb});
  EXPECT_EQ(stacked.out_features(), 2 * kRows);
  EXPECT_EQ(stacked.ByteSize(), ma.ByteSize() + mb.ByteSize());
  const at::Tensor y = stacked.Apply(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 2 * kRows}));
  EXPECT_TRUE(at::equal(y.narrow(-1, 0, kRows), Projection({ma}).Apply(x)));
  EXPECT_TRUE(at::equal(y.narrow(-1, kRows, kRows), Projection({mb}).Apply(x)));
}

TEST(GgmlMatrixTest, AnUnsupportedTypeIsAnErrorNamingTheFileAndTensor) {
  gguf::GgufWriter writer;
  writer.AddString("general.architecture", "test");
  writer.AddTensor("blk.0.attn_q.weight", {32, 2}, TensorType::kI32, std::string(256, '\0'));
  const std::string path = ::testing::TempDir() + "/i32.gguf";
  ASSERT_THAT(writer.WriteFile(path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* info, file->FindTensor("blk.0.attn_q.weight"));
  EXPECT_THAT(GgmlMatrix::Create(file->path(), *info, file->TensorBytes(*info)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr(path), HasSubstr("blk.0.attn_q.weight"),
                             HasSubstr("i32"))));
}

TEST(GgmlMatrixTest, ATensorThatIsNotAMatrixIsAnErrorNamingIt) {
  gguf::GgufWriter writer;
  writer.AddString("general.architecture", "test");
  writer.AddTensor("norm", {32}, TensorType::kF32, std::string(128, '\0'));
  const std::string path = ::testing::TempDir() + "/vector.gguf";
  ASSERT_THAT(writer.WriteFile(path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(const gguf::TensorInfo* info, file->FindTensor("norm"));
  EXPECT_THAT(GgmlMatrix::Create(file->path(), *info, file->TensorBytes(*info)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("'norm'"), HasSubstr("2-D"))));
}

}  // namespace
}  // namespace kvlab::model
