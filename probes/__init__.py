"""The built-in probes, installed as ``specdiff.probes``; one module per rule family."""
