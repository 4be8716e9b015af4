#include "hedge_kernels.h"
int main() { return hk_isa_mask() == 0; }
