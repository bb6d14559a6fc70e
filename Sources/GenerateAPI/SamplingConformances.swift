import Sampling
import Tokenizer
import Transformer

/// The transformer drives the sampling loops as it is: its typed-throwing decode and fork
/// satisfy `SequenceModel`'s requirements.
extension TransformerModel: SequenceModel {}

/// The tokenizer's streaming decoder is the detokenizer the sampling loops match stop strings on.
extension StreamingDecoder: TextDetokenizer {}
