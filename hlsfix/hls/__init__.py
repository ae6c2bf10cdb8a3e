"""The Vivado/Vitis HLS C++ backend: emit (emit.py), choose unroll factors (cost.py), check by
C simulation with g++ (csim.py), and the `hls` build step (build.py)."""
