#pragma once
// Row-major float64 LAPACK calls (see lapack.cc); each returns LAPACK's info (0: success). `a` is overwritten.
int SymEig(int n, double* a, double* w);
int Svd(int m, int n, double* a, double* s, double* u, double* vt);
int Eigenvalues(int n, double* a, double* re, double* im);
