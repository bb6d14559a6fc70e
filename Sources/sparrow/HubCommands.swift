import ArgumentParser
import Foundation
import GenerateAPI
import HubClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Hub names on the command line: `owner/name[:TAG][@revision]` is pulled into the Hugging Face
/// cache (or found there) and loaded from it.
enum HubModels {
    /// The path to load for `text` when it is a Hub id that is neither a local path, a name under
    /// the registry's roots, nor the default model (see ``DefaultModelFetcher``); nil otherwise.
    static func path(for text: String, registry: ModelRegistry? = nil) async throws -> String? {
        if FileManager.default.fileExists(atPath: text) || DefaultModel.names.contains(text) { return nil }
        if let registry, (try? registry.resolve(text)) != nil { return nil }
        guard ModelName.looksLikeHubID(text) else { return nil }
        return try await pull(text).modelPath
    }

    /// Pulls `text`, with a progress bar on stderr when it is a terminal.
    static func pull(_ text: String, progress: Bool = true) async throws -> PulledModel {
        do {
            let name = try ModelName(text)
            let bar = progress && isatty(STDERR_FILENO) != 0 ? ProgressBar() : nil
            var report: (@Sendable (DownloadProgress) -> Void)?
            if let bar { report = { bar.update($0) } }
            let model = try await HubClient().pull(name, progress: report)
            bar?.finish()
            return model
        } catch let error as HubError {
            throw CommandError(error.description)
        }
    }
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a model from the Hugging Face Hub into its cache.",
        discussion: """
            NAME is owner/name[:TAG][@revision]. A GGUF repository needs a TAG unless it has a \
            Q4_K_M file (or only one GGUF file); a safetensors repository is fetched as a Hugging Face \
            directory (config, tokenizer files, generation config, weights and their index). Files go \
            to the cache huggingface_hub uses (HF_HUB_CACHE, else HF_HOME/hub, else \
            ~/.cache/huggingface/hub), so either tool finds what the other downloaded. HF_ENDPOINT, \
            HF_TOKEN (or the token file under HF_HOME) and HF_HUB_OFFLINE=1 work as they do there. \
            The path to load is printed on stdout; a progress bar goes to stderr when it is a terminal.
            """
    )

    @Argument(help: "owner/name[:TAG][@revision]")
    var name: String

    @Flag(help: "No progress bar.") var quiet = false

    func run() async throws {
        let model = try await HubModels.pull(name, progress: !quiet)
        print(model.modelPath)
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the models in the Hugging Face cache, with size and commit.")

    func run() throws {
        let cache = HubConfiguration.fromEnvironment().cache
        let repos = cache.cachedRepos()
        guard !repos.isEmpty else {
            note("no models in \(cache.root)")
            return
        }
        var rows = [["NAME", "SIZE", "COMMIT", "REFS"]]
        for repo in repos {
            let refs = repo.refs.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value.prefix(12))" }
            let commits = repo.commits.map { String($0.prefix(12)) }.joined(separator: ",")
            rows.append([repo.repo, ProgressBar.megabytes(repo.sizeOnDisk) + " MB", commits, refs.joined(separator: " ")])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a model (every revision and file of its repository) from the Hugging Face cache.")

    @Argument(help: "owner/name (a :TAG or @revision is ignored: the whole repository goes).")
    var name: String

    func run() throws {
        do {
            let model = try ModelName(name)
            let cache = HubConfiguration.fromEnvironment().cache
            try cache.remove(repo: model.repo)
            note("removed \(model.repo) from \(cache.root)")
        } catch let error as HubError {
            throw CommandError(error.description)
        }
    }
}
