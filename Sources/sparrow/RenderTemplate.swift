import ArgumentParser
import Foundation
import GenerateAPI
import Jinja

struct RenderTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-template",
        abstract: "Print the prompt a chat template makes of a conversation.",
        discussion: """
            Renders like Hugging Face's apply_chat_template (jinja2 with trim_blocks and \
            lstrip_blocks). Prints exactly the rendered text, with no newline added. A template \
            that calls raise_exception prints its message on stderr and exits non-zero.
            """
    )

    @Option(help: "A .gguf file or a Hugging Face directory whose chat template to use.")
    var model: String?

    @Option(help: "A file holding the Jinja template (instead of --model).")
    var template: String?

    @Option(help: "The BOS text with --template (default: empty).")
    var bosToken: String?

    @Option(help: "The EOS text with --template (default: empty).")
    var eosToken: String?

    @Option(help: "The conversation: a JSON array of {\"role\", \"content\"} objects, or @FILE to read it from a file.")
    var messages: String

    @Option(help: "Extra template variables: a JSON object (or @FILE), e.g. {\"tools\": [...]}.")
    var variables: String?

    @Flag(help: "Render without the assistant prefix (add_generation_prompt = false).")
    var noGenerationPrompt = false

    func validate() throws {
        if (model == nil) == (template == nil) { throw ValidationError("give either --model or --template") }
        if model != nil && (bosToken != nil || eosToken != nil) {
            throw ValidationError("--bos-token and --eos-token go with --template; a model has its own")
        }
    }

    private static func read(_ argument: String, what: String) throws -> Data {
        guard argument.hasPrefix("@") else { return Data(argument.utf8) }
        let path = String(argument.dropFirst())
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandError("\(what): cannot read \(path)") }
        return data
    }

    func run() throws {
        let source: ChatTemplateSource
        if let model {
            do { source = try ChatTemplate.source(modelPath: model) } catch { throw CommandError(error.description) }
        } else if let template {
            guard let data = FileManager.default.contents(atPath: template),
                  let text = String(validating: data, as: UTF8.self) else {
                throw CommandError("--template: cannot read \(template) as UTF-8 text")
            }
            source = ChatTemplateSource(template: text, bosToken: bosToken ?? "", eosToken: eosToken ?? "")
        } else {
            throw CommandError("give either --model or --template")
        }
        let conversation: [ChatMessage]
        do {
            conversation = try JSONDecoder().decode([ChatMessage].self, from: try Self.read(messages, what: "--messages"))
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("--messages must be a JSON array of {\"role\": ..., \"content\": ...} objects (\(error))")
        }
        var extra: [String: TemplateValue] = [:]
        if let variables {
            do {
                guard case let .object(members) = try TemplateValue(json: try Self.read(variables, what: "--variables")) else {
                    throw CommandError("--variables must be a JSON object")
                }
                for (k, v) in members { extra[k] = v }
            } catch let error as TemplateError {
                throw CommandError("--variables: \(error.description)")
            }
        }
        do {
            let rendered = try ChatTemplate(source: source.template).render(
                messages: conversation, bosToken: source.bosToken, eosToken: source.eosToken,
                addGenerationPrompt: !noGenerationPrompt, extraVariables: extra)
            FileHandle.standardOutput.write(Data(rendered.utf8))
        } catch {
            throw CommandError(error.description)
        }
    }
}
