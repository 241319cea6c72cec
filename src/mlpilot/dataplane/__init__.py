"""The inference data plane: models in memory behind the Open Inference Protocol V2; never touches the metadata DB."""
