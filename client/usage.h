// Usage: the CLI's commands, each with its usage text and the flags it takes, in one
// table that main.cc dispatches on and `streamrec help [COMMAND]`, `COMMAND --help` print.
// (client/streamrec.bash-completion lists the same flags; tests/python keep them equal.)
// Flag names are snake_case (client/args.h). Constant data; any thread.
#ifndef STREAMREC_CLIENT_USAGE_H_
#define STREAMREC_CLIENT_USAGE_H_

#include <set>
#include <string>
#include <vector>

namespace streamrec::client {

struct CommandSpec {
  std::string name;
  std::string usage;            // the command's usage text, ends in a newline
  std::set<std::string> flags;  // the flags it takes beside the global ones
  bool positional = false;      // takes words after the command
};

// Commands: every command, in the order `streamrec help` lists them.
const std::vector<CommandSpec>& Commands();
// FindCommand: the command named `name`, or null.
const CommandSpec* FindCommand(const std::string& name);
// GlobalFlags: the flags every command takes (server, timeout, json, help).
const std::set<std::string>& GlobalFlags();
// BooleanFlags: the flags that take no value.
const std::set<std::string>& BooleanFlags();
// Usage: the whole usage text (`streamrec help`).
std::string Usage();
// CommandUsage: one command's usage, with the global options (`streamrec help COMMAND`).
std::string CommandUsage(const CommandSpec& command);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_USAGE_H_
