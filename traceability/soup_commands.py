"""The commands the project's files call, for the SOUP rule of SRS-292 (PR-057):
every one must be the command of a required component of
hazard_analysis/soup_required.yaml or listed there as no SOUP item.

Read statically from
- every shell script scripts/**/*.sh and .ci/run: the first words of simple
  commands (after keywords, assignments and wrappers), `command -v NAME`,
  `python -m MODULE`, `sh -c '...'`, $( ... ), `find ... -exec NAME`,
  `xargs NAME`, an absolute path (/usr/bin/NAME), and "$VAR" / ${VAR} when the
  script assigns VAR a tool name (VAR=NAME, VAR=${VAR:-NAME});
- every Python file of PY_DIRS, by its syntax tree: subprocess calls with an
  argv list (written in the call or held in a variable assigned a list or a
  name), os.exec*/os.spawn*, asyncio's create_subprocess_exec, a command
  string run by a shell (shell=True, os.system, os.popen,
  create_subprocess_shell, subprocess.getoutput) and shutil.which.

Limit (stated in SRS-292): a name computed at run time (read from a file or
the environment, built by a function or a format string) is not seen.
"""
from __future__ import annotations

import ast
import re
import shlex
from functools import lru_cache
from pathlib import Path

SHELL_GLOB = ("scripts", "*.sh")
SHELL_EXTRA = (".ci/run",)
PY_DIRS = ("scripts", "bench", "core", "traceability", "tests")
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}
BUILTINS = {"cd", "echo", "printf", "set", "local", "export", "declare", "readonly", "return", "exit", "shift",
            "trap", "read", "source", ".", "eval", "true", "false", "test", "[", "[[", "]]", "]", "wait", ":",
            "case", "esac", "for", "in", "command", "exec", "unset", "continue", "break"}
SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", ";;", "|&"}
ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
WRAPPERS = {"env", "sudo", "as_root", "nohup"}
TOOL = re.compile(r"[A-Za-z][\w.+-]*")
VAR = re.compile(r"^\$\{?([A-Za-z_]\w*)\}?$")
SHELL_ASSIGN = re.compile(r"(?:^|[\s;(])(?:local\s+|export\s+|readonly\s+|declare\s+)?([A-Za-z_]\w*)="
                          r"(\"[^\"]*\"|'[^']*'|[^\s;)]+)")
DEFAULT = re.compile(r"^\$\{[A-Za-z_]\w*:?-([^}]*)\}$")
FIND_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}
XARGS_WITH_VALUE = {"-I", "-n", "-P", "-d", "-E", "-L", "-s", "-a"}

# Python: argv-list calls, program-first calls, shell-string calls
ARGV_CALLS = {"run", "_run", "_cmd", "Popen", "check_output", "check_call", "call"}
PROGRAM_CALLS = {"create_subprocess_exec", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
                 "execlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe"}
SHELL_CALLS = {"system", "popen", "create_subprocess_shell", "getoutput", "getstatusoutput"}
CALLED = re.compile(r"\b(?:%s)\s*\(" % "|".join(sorted(ARGV_CALLS | PROGRAM_CALLS | SHELL_CALLS | {"which"})))


def tool_name(word: str) -> str | None:
    """The tool a command word names: itself, or the last part of an absolute path
    or of a virtual environment's bin/; None for a relative path (the project's own
    files and build outputs) or anything that is no plain name."""
    if word.startswith("/") or word.startswith(".venv/bin/"):
        word = word.rsplit("/", 1)[-1]
    return word if TOOL.fullmatch(word) else None


# ---------------------------------------------------------------- shell
def _without_heredocs(text: str) -> str:
    out, end = [], None
    for line in text.splitlines():
        if end is not None:
            end = None if line.strip() == end else end
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        end = m.group(1) if m else None
        out.append(line)
    return "\n".join(out)


def _substitutions(word: str) -> list[str]:
    """The texts of the command substitutions $( ... ) in a word (not $(( arithmetic )))."""
    found, i = [], word.find("$(")
    while i >= 0:
        if word.startswith("$((", i):
            i = word.find("$(", i + 3)
            continue
        depth, j = 1, i + 2
        while j < len(word) and depth:
            depth += {"(": 1, ")": -1}.get(word[j], 0)
            j += 1
        found.append(word[i + 2:j - 1])
        i = word.find("$(", j)
    return found


def shell_variables(text: str) -> dict[str, set[str]]:
    """VAR -> the tool names the script assigns it (VAR=gcc, VAR="/usr/bin/gcc", VAR=${VAR:-gcc})."""
    out: dict[str, set[str]] = {}
    for name, value in SHELL_ASSIGN.findall(text):
        value = value.strip("\"'")
        m = DEFAULT.match(value)
        tool = tool_name(m.group(1) if m else value)
        if tool:
            out.setdefault(name, set()).add(tool)
    return out


def shell_commands(text: str, functions: set[str], variables: dict[str, set[str]] | None = None) -> set[str]:
    """The commands a shell script runs (see the module's docstring), less the
    builtins and the script's own functions."""
    variables = shell_variables(text) if variables is None else variables
    cmds: set[str] = set()
    for line in _without_heredocs(text).replace("\\\n", " ").splitlines():
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        try:
            tokens = list(lex)
        except ValueError:
            continue
        simple: list[list[str]] = [[]]
        depth, array = 0, False
        for k, tok in enumerate(tokens):
            if array:                          # NAME=( ... ): words, not commands
                array = tok != ")"
            elif tok == "(" and k and tokens[k - 1].endswith("="):
                array = True
            elif tok == ")" and depth == 0:    # `PATTERN)` of a case: a label
                simple[-1] = []
            elif tok in SEPARATORS:
                depth += {"(": 1, ")": -1}.get(tok, 0)
                simple.append([])
            else:
                simple[-1].append(tok)
        for words in simple:
            for w in words:
                for sub in _substitutions(w):
                    cmds |= shell_commands(sub, functions, variables)
            cmds |= _command_of(words, functions, variables)
    return cmds


def _command_of(words: list[str], functions: set[str], variables: dict[str, set[str]]) -> set[str]:
    i = 0
    while i < len(words) and (words[i] in KEYWORDS or ASSIGN.match(words[i]) or words[i] in WRAPPERS
                              or words[i] == "step"):
        i += 2 if words[i] == "step" else 1      # step "NAME" COMMAND...
    if i >= len(words) or words[i] in ("for", "case"):
        return set()
    w, rest = words[i], words[i + 1:]
    if w == "command" and rest[:1] == ["-v"]:
        return set(rest[1:2])
    if w in ("sh", "bash") and rest[:1] == ["-c"] and len(rest) > 1:
        return {w} | shell_commands(rest[1], functions, variables)
    python = w.startswith("python") or bool(re.fullmatch(r"\"?\$\{?PY\}?\"?", w))
    if python:
        return {"python" if "$" in w else w} | ({rest[1]} if rest[:1] == ["-m"] and len(rest) > 1 else set())
    var = VAR.match(w)
    if var:                                       # "$TOOL": what the script assigns it
        return set(variables.get(var.group(1), ()))
    tool = tool_name(w)
    if tool is None or tool in BUILTINS or tool in functions:
        return set()
    found = {tool}
    if tool == "find":                            # find ... -exec NAME ... \;
        found |= {c for k, x in enumerate(rest[:-1]) if x in FIND_EXEC
                  for c in _command_of(rest[k + 1:], functions, variables)}
    elif tool == "xargs":
        k = 0
        while k < len(rest) and rest[k].startswith("-"):
            k += 2 if rest[k] in XARGS_WITH_VALUE else 1
        found |= _command_of(rest[k:], functions, variables)
    return found


# ---------------------------------------------------------------- Python
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _scope_nodes(scope: ast.AST):
    """The nodes of a module or function, without those of the functions it defines."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, FUNCS):
            todo.extend(ast.iter_child_nodes(node))


def _assigned(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """NAME -> every value assigned to it in this scope (module or function)."""
    out: dict[str, list[ast.expr]] = {}
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out.setdefault(t.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out.setdefault(node.target.id, []).append(node.value)
    return out


def _strings(node: ast.expr, names: dict[str, list[ast.expr]], seen: frozenset = frozenset()) -> list[str]:
    """The string values an expression can have, as far as the module's text says."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Attribute) and node.attr == "executable":     # sys.executable
        return ["python"]
    if isinstance(node, ast.Name) and node.id not in seen:
        return [s for v in names.get(node.id, []) for s in _strings(v, names, seen | {node.id})]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("str", "Path") \
            and node.args:
        return _strings(node.args[0], names, seen)
    return []


def _programs(node: ast.expr, names: dict[str, list[ast.expr]], seen: frozenset = frozenset()) -> list[str]:
    """The program names an argv can start with: a list or tuple written out, one
    held in a variable, `[*BASE, ...]` or BASE + [...]."""
    if isinstance(node, (ast.List, ast.Tuple)):
        if not node.elts:
            return []
        first = node.elts[0]
        if isinstance(first, ast.Starred):
            return _programs(first.value, names, seen)
        return _strings(first, names, seen)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _programs(node.left, names, seen)
    if isinstance(node, ast.Name) and node.id not in seen:
        return [s for v in names.get(node.id, []) for s in _programs(v, names, seen | {node.id})]
    return []


def _func_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def python_commands(text: str) -> set[str]:
    """The commands a Python file calls (see the module's docstring)."""
    return set(_python_commands(text))


# keyed on the file's text: a check re-reads the same files (and the tests check
# copies of the project many times), and parsing them all took about 3 s a check
@lru_cache(maxsize=1024)
def _python_commands(text: str) -> frozenset[str]:
    if not CALLED.search(text):
        return frozenset()     # none of the calls above: no need to parse it
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return frozenset()
    module = _assigned(tree)
    found: list[str] = []
    shells: list[str] = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, FUNCS)]
    for scope in scopes:
        # a name is looked up in its function first, then in the module
        names = module if scope is tree else {**module, **_assigned(scope)}
        for call in (n for n in _scope_nodes(scope) if isinstance(n, ast.Call) and n.args):
            _call(call, names, found, shells)
    cmds = {t for t in map(tool_name, found) if t}
    for s in shells:
        cmds |= shell_commands(s, set())
    return frozenset(cmds)


def _call(call: ast.Call, names: dict[str, list[ast.expr]], found: list[str], shells: list[str]) -> None:
    """Adds the programs a call runs to `found`, the shell strings it runs to `shells`."""
    fn, arg = _func_name(call), call.args[0]
    shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in call.keywords)
    if fn == "which":
        found += _strings(arg, names)
    elif fn in SHELL_CALLS or (fn in ARGV_CALLS and shell):
        shells += _strings(arg, names)
    elif fn in ARGV_CALLS:
        found += _programs(arg, names)
    elif fn in PROGRAM_CALLS:
        # os.spawn*: the mode comes first, then the program
        at = 1 if fn.startswith("spawn") and len(call.args) > 1 else 0
        found += _strings(call.args[at], names)


# ---------------------------------------------------------------- the project
def shell_files(root: Path) -> list[str]:
    d = root / SHELL_GLOB[0]
    found = sorted(p.relative_to(root).as_posix() for p in d.rglob(SHELL_GLOB[1]) if p.is_file()) \
        if d.is_dir() else []
    return found + [rel for rel in SHELL_EXTRA if (root / rel).is_file()]


def called_commands(root: Path) -> dict[str, set[str]]:
    """command -> the files calling it: the shell scripts and the Python files."""
    out: dict[str, set[str]] = {}
    for rel in shell_files(root):
        text = (root / rel).read_text(encoding="utf-8")
        functions = set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{", text, re.M))
        for c in shell_commands(text, functions):
            out.setdefault(c, set()).add(rel)
    for d in PY_DIRS:
        for path in sorted((root / d).rglob("*.py")) if (root / d).is_dir() else []:
            if "__pycache__" in path.parts:
                continue
            for c in python_commands(path.read_text(encoding="utf-8", errors="replace")):
                out.setdefault(c, set()).add(path.relative_to(root).as_posix())
    return out
