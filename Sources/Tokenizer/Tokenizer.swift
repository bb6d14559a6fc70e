/// Text ↔ token ids: SentencePiece-BPE with byte fallback and byte-level BPE.
///
/// This module stands alone (no dependency on `Tensor`): it is built from plain vocabulary data
/// that a GGUF file or a `tokenizer.json` supplies. The tokenizers themselves arrive with issue 3.
public enum TokenizerModule {}
