/// Logit processors and samplers with vLLM's semantics (issue 5).
public enum SamplingModule {}
