"""Speech and language providers, each one module behind one small Protocol."""
