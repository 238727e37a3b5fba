/// A line typed at the hypervisor's console, in xl's words (`xl list`, `xl shutdown NAME`...).
/// Parsed from bytes so that the hypervisor never compares Strings (Embedded Swift).
public enum ConsoleCommand: Equatable {
    case list
    case help
    case quit
    /// Commands that name a guest; the name is the bytes as typed.
    case console([UInt8])
    case shutdown([UInt8])
    case reboot([UInt8])
    case destroy([UInt8])
    case pause([UInt8])
    case unpause([UInt8])
    case create([UInt8])

    /// Why a line is not a command.
    public enum ParseError: Equatable {
        case empty
        case unknown([UInt8])
        /// The command (its word) takes a guest name.
        case needsGuest([UInt8])
        case extraWords([UInt8])
    }

    public enum Parsed: Equatable {
        case command(ConsoleCommand)
        case invalid(ParseError)
    }

    /// One line per command, for `help`.
    public static let helpText: StaticString = """
        list                 the guests: name, id, vCPUs, memory, uptime, CPU time, state
        console NAME         send input to guest NAME
        shutdown NAME        ask NAME to power off (xenstore); destroyed if it has not within 10 s
        reboot NAME          ask NAME to reboot (xenstore); rebooted if it has not within 10 s (at once if it never used xenstore)
        destroy NAME         end NAME at once
        pause NAME           stop running NAME's vCPUs (its memory and state are kept)
        unpause NAME         let a paused guest run again
        create NAME          start NAME (autostart = false, or destroyed or shut down before)
        quit                 end every guest and the hypervisor
        help                 this list

        """

    public static func parse(_ line: [UInt8]) -> Parsed {
        let words = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") })
            .map { Array($0) }
        guard let verb = words.first else { return .invalid(.empty) }
        func noArguments(_ c: ConsoleCommand) -> Parsed { words.count == 1 ? .command(c) : .invalid(.extraWords(verb)) }
        func guest(_ make: ([UInt8]) -> ConsoleCommand) -> Parsed {
            if words.count < 2 { return .invalid(.needsGuest(verb)) }
            if words.count > 2 { return .invalid(.extraWords(verb)) }
            return .command(make(words[1]))
        }
        if matches(verb, "list") || matches(verb, "l") { return noArguments(.list) }
        if matches(verb, "help") || matches(verb, "?") { return noArguments(.help) }
        if matches(verb, "quit") || matches(verb, "q") { return noArguments(.quit) }
        if matches(verb, "console") { return guest(ConsoleCommand.console) }
        if matches(verb, "shutdown") { return guest(ConsoleCommand.shutdown) }
        if matches(verb, "reboot") { return guest(ConsoleCommand.reboot) }
        if matches(verb, "destroy") { return guest(ConsoleCommand.destroy) }
        if matches(verb, "pause") { return guest(ConsoleCommand.pause) }
        if matches(verb, "unpause") { return guest(ConsoleCommand.unpause) }
        if matches(verb, "create") { return guest(ConsoleCommand.create) }
        return .invalid(.unknown(verb))
    }

    static func matches(_ word: [UInt8], _ text: StaticString) -> Bool {
        text.withUTF8Buffer { word.elementsEqual($0) }
    }
}
