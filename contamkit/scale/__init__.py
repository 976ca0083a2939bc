"""Scale-out: sharded filters, out-of-core and Dask builds, capacity planning (README.md)."""
