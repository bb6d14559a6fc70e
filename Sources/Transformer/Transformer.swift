import Tensor

/// Llama, Mistral and Phi-3 forward passes over `Tensor` weights (issue 4).
public enum TransformerModule {}
