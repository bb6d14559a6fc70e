// The library's one product is GenerateAPI: `import GenerateAPI` gives the modules its API is built
// from, so a service depends on one product and imports one module. Their kernels and internals are
// `package`, so re-exporting them exposes only what a user of the engine needs: model files
// (ModelFormats), tensors and element types (Tensor), tokenizers (Tokenizer), models and their
// configuration (Transformer), and sampling parameters (Sampling).
@_exported import ModelFormats
@_exported import Sampling
@_exported import Tensor
@_exported import Tokenizer
@_exported import Transformer
