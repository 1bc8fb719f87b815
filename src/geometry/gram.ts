// Inner products of condition patterns in float64 (as rsatoolbox computes RDMs with numpy). The
// kernel works on 4×4 blocks of rows so each loaded value feeds four multiply-adds; V8 keeps the 16
// partial sums in registers. tfjs would be faster but only has float32, whose rounding shows in
// small dissimilarities between large patterns.

/** X·Xᵀ for X of K rows × C columns (row-major); a full symmetric K×K matrix, row-major. */
export function gram(X: Float64Array, K: number, C: number): Float64Array {
  const G = new Float64Array(K * K);
  const K4 = K - (K % 4);
  for (let i = 0; i < K4; i += 4) for (let j = 0; j <= i; j += 4) block4(X, X, i, j, C, G, K);
  for (let i = K4; i < K; i++) for (let j = 0; j <= i; j++) G[i * K + j] = dot(X, i * C, X, j * C, C);
  for (let i = 1; i < K; i++) for (let j = 0; j < i; j++) G[j * K + i] = G[i * K + j];
  return G;
}

/** A·Bᵀ for A and B of K rows × C columns; K×K, row-major (not symmetric). */
export function crossGram(A: Float64Array, B: Float64Array, K: number, C: number): Float64Array {
  const G = new Float64Array(K * K);
  const K4 = K - (K % 4);
  for (let i = 0; i < K4; i += 4) for (let j = 0; j < K4; j += 4) block4(A, B, i, j, C, G, K);
  for (let i = 0; i < K; i++) {
    for (let j = i < K4 ? K4 : 0; j < K; j++) G[i * K + j] = dot(A, i * C, B, j * C, C);
  }
  return G;
}

function dot(A: Float64Array, a: number, B: Float64Array, b: number, C: number): number {
  let s = 0;
  for (let c = 0; c < C; c++) s += A[a + c] * B[b + c];
  return s;
}

/** G[i..i+3][j..j+3] = A[i..i+3] · B[j..j+3]ᵀ. */
function block4(A: Float64Array, B: Float64Array, i: number, j: number, C: number, G: Float64Array, K: number): void {
  const a0 = i * C, a1 = a0 + C, a2 = a1 + C, a3 = a2 + C;
  const b0 = j * C, b1 = b0 + C, b2 = b1 + C, b3 = b2 + C;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let c = 0; c < C; c++) {
    const y0 = B[b0 + c], y1 = B[b1 + c], y2 = B[b2 + c], y3 = B[b3 + c];
    let x = A[a0 + c];
    s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
    x = A[a1 + c];
    s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
    x = A[a2 + c];
    s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
    x = A[a3 + c];
    s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
  }
  let r = i * K + j;
  G[r] = s00; G[r + 1] = s01; G[r + 2] = s02; G[r + 3] = s03;
  r += K;
  G[r] = s10; G[r + 1] = s11; G[r + 2] = s12; G[r + 3] = s13;
  r += K;
  G[r] = s20; G[r + 1] = s21; G[r + 2] = s22; G[r + 3] = s23;
  r += K;
  G[r] = s30; G[r + 1] = s31; G[r + 2] = s32; G[r + 3] = s33;
}
