#pragma once
// SPD's causal-importance MLPs (one per subcomponent: scalar → H GELU neurons → scalar), fused, in
// float64; see spd_gates.cc.
void SpdGateForward(const double* a, const double* wIn, const double* bIn, const double* wOut, const double* bOut, int B, int C, int H, double* cdf, double* pdf, double* pre);
void SpdGateBackward(const double* a, const double* dpre, const double* wIn, const double* bIn, const double* wOut, int B, int C, int H, const double* cdf, const double* pdf, double* gwIn, double* gbIn, double* gwOut, double* gbOut, double* da);
