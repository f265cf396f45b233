/**
 * Shell completion scripts for bash, zsh, fish and PowerShell, generated from the command tree
 * itself, so they list exactly the commands and options this ssmssh has. Pure.
 *
 * @example
 * ```ts
 * const script = completionScript("bash", commandSpecs(program));
 * ```
 * @module
 */

import type { Command } from "commander";

/** The shells we generate scripts for. */
export const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
export type Shell = typeof SHELLS[number];

/** One option of a subcommand. */
export interface OptionSpec {
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
}

/** One subcommand, with its options and fixed argument values (like shell names). */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  values: string[];
}

/** Reads the subcommands and their options off a commander program. */
export function commandSpecs(program: Command): CommandSpec[] {
  return program.commands.map((command) => ({
    name: command.name(),
    description: command.description(),
    options: command.options.map((o) => ({
      long: o.long,
      short: o.short,
      description: o.description,
      takesValue: o.required || o.optional,
    })),
    values: command.name() === "completions" ? [...SHELLS] : command.commands.map((c) => c.name()),
  }));
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, specs: CommandSpec[]): string {
  switch (shell) {
    case "bash":
      return bash(specs);
    case "zsh":
      return zsh(specs);
    case "fish":
      return fish(specs);
    case "powershell":
      return powershell(specs);
  }
}

const flags = (c: CommandSpec) =>
  c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));

function bash(specs: CommandSpec[]): string {
  const cases = specs.map((c) =>
    `    ${c.name}) opts="${flags(c).join(" ")} --help"; values="${c.values.join(" ")}" ;;`
  );
  return `# bash completion for ssmssh; load with: source <(ssmssh completions bash)
_ssmssh() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts="" values=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${specs.map((c) => c.name).join(" ")} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ -n "$values" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=( $(compgen -W "$values" -- "$cur") )
  fi
}
complete -o default -F _ssmssh ssmssh
`;
}

function zsh(specs: CommandSpec[]): string {
  const quote = (s: string) => s.replace(/'/g, "'\\''").replace(/:/g, "\\:");
  const commands = specs.map((c) => `    '${c.name}:${quote(c.description)}'`).join("\n");
  const cases = specs.map((c) => {
    const opts = c.options.flatMap((o) =>
      [o.long, o.short].filter(Boolean).map((f) =>
        `'${f}[${quote(o.description).replace(/[[\]]/g, "")}]${o.takesValue ? ":value:" : ""}'`
      )
    );
    const values = c.values.length ? ` '1:value:(${c.values.join(" ")})'` : "";
    return `    ${c.name}) _arguments -s ${opts.join(" ")}${values} '*::arg:_default' ;;`;
  });
  return `#compdef ssmssh
# zsh completion for ssmssh; load with: source <(ssmssh completions zsh)
_ssmssh() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  words=("\${(@)words[2,-1]}")
  (( CURRENT-- ))
  case $words[1] in
${cases.join("\n")}
  esac
}
if [ "$funcstack[1]" = "_ssmssh" ]; then _ssmssh "$@"; else compdef _ssmssh ssmssh; fi
`;
}

function fish(specs: CommandSpec[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const lines = [
    "# fish completion for ssmssh; load with: ssmssh completions fish | source",
    "complete -c ssmssh -f",
    ...specs.map((c) =>
      `complete -c ssmssh -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`
    ),
  ];
  for (const c of specs) {
    const when = `-n ${q(`__fish_seen_subcommand_from ${c.name}`)}`;
    for (const o of c.options) {
      const names = [
        o.long ? `-l ${o.long.replace(/^--/, "")}` : "",
        o.short ? `-s ${o.short.replace(/^-/, "")}` : "",
      ].filter(Boolean).join(" ");
      lines.push(
        `complete -c ssmssh ${when} ${names}${o.takesValue ? " -r" : ""} -d ${q(o.description)}`,
      );
    }
    if (c.values.length) lines.push(`complete -c ssmssh ${when} -a ${q(c.values.join(" "))}`);
  }
  return lines.join("\n") + "\n";
}

function powershell(specs: CommandSpec[]): string {
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const table = specs.map((c) =>
    `    ${q(c.name)} = @(${[...flags(c), "--help", ...c.values].map(q).join(", ")})`
  ).join("\n");
  return `# PowerShell completion for ssmssh; load with:
#   ssmssh completions powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName ssmssh, ssmssh.exe -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $subcommands = @{
${table}
  }
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  if ($words.Count -le 1 -or ($words.Count -eq 2 -and $wordToComplete -ne '')) {
    $candidates = @($subcommands.Keys) + @('--help', '--version')
  } else {
    $candidates = $subcommands[$words[1]]
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | Sort-Object | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}
