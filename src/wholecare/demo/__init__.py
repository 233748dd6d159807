"""The synthetic demonstration area: `wholecare demo`."""
