"""The overlap engine: corpus -> normalized text -> n-grams -> Bloom filter -> overlap."""
