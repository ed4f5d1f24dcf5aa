"""dvlite: Git-native versioning of datasets and model files."""

__version__ = "0.1.0"
