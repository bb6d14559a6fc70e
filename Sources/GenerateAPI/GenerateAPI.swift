import Sampling
import Tokenizer
import Transformer

/// `generate(request:)`, chat templates and the model registry (issue 6).
public enum GenerateAPIModule {}
