"""cocotb testbenches of the RTL backend and the glue that runs them from Python."""
