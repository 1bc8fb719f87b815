// LAPACK from the OpenBLAS the addon links (Debian's libopenblas carries LAPACK): symmetric eigen-
// decomposition, thin SVD and general eigenvalues in float64, row-major in and out. The geometry
// methods (shape metrics, CCA, DSA) spend their time here; numpy calls the same routines.
#include "lapack.h"
#include <algorithm>
#include <vector>

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork, int* iwork, const int* liwork, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info);
void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda, double* wr, double* wi, double* vl, const int* ldvl, double* vr, const int* ldvr, double* work, const int* lwork, int* info);
}

// A symmetric matrix is its own transpose, so row-major in is column-major in; LAPACK's column-major
// eigenvectors come back as the rows of `a`.
int SymEig(int n, double* a, double* w) {
  const char jobz = 'V', uplo = 'L';
  int info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
  double workQuery = 0;
  dsyevd_(&jobz, &uplo, &n, a, &n, w, &workQuery, &lwork, &iworkQuery, &liwork, &info);
  if (info != 0) return info;
  lwork = (int)workQuery;
  liwork = iworkQuery;
  std::vector<double> work(std::max(1, lwork));
  std::vector<int> iwork(std::max(1, liwork));
  dsyevd_(&jobz, &uplo, &n, a, &n, w, work.data(), &lwork, iwork.data(), &liwork, &info);
  return info;
}

// Row-major A (m × n) is column-major Aᵀ (n × m). The SVD of Aᵀ = V S Uᵀ: LAPACK's "u" (n × k,
// column-major) is then Vᵀ row-major (k × n), and its "vt" (k × m, column-major) is U row-major (m × k).
int Svd(int m, int n, double* a, double* s, double* u, double* vt) {
  const char jobz = 'S';
  const int k = std::min(m, n);
  int info = 0, lwork = -1;
  double workQuery = 0;
  std::vector<int> iwork(8 * (size_t)k);
  // LAPACK sees an n × m matrix with leading dimension n
  dgesdd_(&jobz, &n, &m, a, &n, s, vt, &n, u, &k, &workQuery, &lwork, iwork.data(), &info);
  if (info != 0) return info;
  lwork = (int)workQuery;
  std::vector<double> work(std::max(1, lwork));
  dgesdd_(&jobz, &n, &m, a, &n, s, vt, &n, u, &k, work.data(), &lwork, iwork.data(), &info);
  return info;
}

// The eigenvalues of Aᵀ are those of A.
int Eigenvalues(int n, double* a, double* re, double* im) {
  const char no = 'N';
  int info = 0, lwork = -1, one = 1;
  double workQuery = 0, dummy = 0;
  dgeev_(&no, &no, &n, a, &n, re, im, &dummy, &one, &dummy, &one, &workQuery, &lwork, &info);
  if (info != 0) return info;
  lwork = (int)workQuery;
  std::vector<double> work(std::max(1, lwork));
  dgeev_(&no, &no, &n, a, &n, re, im, &dummy, &one, &dummy, &one, work.data(), &lwork, &info);
  return info;
}
