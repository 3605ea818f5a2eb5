// Package citest reads a step's log the way GitHub's runner and Azure's
// agent do, for tests that check which commands a step's output holds.
//
// The parsers follow actions/runner (ActionCommand.TryParseV2: after
// leading white space a line starting "::name props::data"; TryParse: the
// older "##[name props]data" anywhere in a line) and azure-pipelines-agent
// (Command.TryParse: "##vso[area.event props]data" anywhere in a line; the
// log viewer's "##[group]"-style formatting). Both split lines on "\n" and
// on a bare "\r". Each line is read twice: as it is, and with the
// characters a .NET culture-aware comparison may skip removed (format and
// control characters, combining marks, default-ignorables), so a command
// hidden behind a zero-width space is found too.
package citest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is one command a CI would read in a log.
type Command struct {
	Name       string // lower case: "error", "add-mask"; Azure "task.setvariable"; Azure formatting "##[group]"
	Properties string
	Data       string // as written, still escaped
	Line       string // the log line it was read in
}

// Allowed are the commands gitship writes, per platform.
var Allowed = map[string][]string{
	"github": {"error", "warning", "notice", "group", "endgroup", "add-mask"},
	"azure":  {"task.logissue", "task.setvariable", "task.setsecret", "task.uploadsummary", "##[group]", "##[endgroup]"},
}

var lineBreak = regexp.MustCompile("\r\n|\r|\n")

// Commands lists the commands the CI named kind ("github" or "azure")
// reads in log, in order.
func Commands(kind, log string) []Command {
	var cmds []Command
	for _, line := range lineBreak.Split(log, -1) {
		c, ok := parse(kind, line)
		if !ok {
			c, ok = parse(kind, skeleton(line))
			c.Line = line
		}
		if ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

func parse(kind, line string) (Command, bool) {
	switch kind {
	case "github":
		if m := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(m, "::") {
			if end := strings.Index(m[2:], "::"); end >= 0 {
				name, props, _ := strings.Cut(m[2:2+end], " ")
				if name != "" {
					return Command{Name: strings.ToLower(name), Properties: props, Data: m[2+end+2:], Line: line}, true
				}
			}
		}
		return bracket(line, "##[", "")
	case "azure":
		if c, ok := bracket(line, "##vso[", ""); ok {
			return c, true
		}
		return bracket(line, "##[", "##[")
	}
	return Command{}, false
}

// bracket reads prefix + "name props]data" anywhere in line.
func bracket(line, prefix, namePrefix string) (Command, bool) {
	i := strings.Index(line, prefix)
	if i < 0 {
		return Command{}, false
	}
	rest := line[i+len(prefix):]
	rb := strings.IndexByte(rest, ']')
	if rb < 0 {
		return Command{}, false
	}
	name, props, _ := strings.Cut(rest[:rb], " ")
	if name == "" {
		return Command{}, false
	}
	name = strings.ToLower(name)
	if namePrefix != "" {
		name = namePrefix + name + "]"
	}
	return Command{Name: name, Properties: props, Data: rest[rb+1:], Line: line}, true
}

// skeleton drops what a culture-aware comparison may skip.
func skeleton(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r != ' ' && r != '\t' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me,
			unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) {
			return -1
		}
		return r
	}, s)
}

// Unescape decodes a command's data as the CI does.
func Unescape(kind, data string) string {
	if kind == "azure" {
		return strings.NewReplacer("%AZP25", "%", "%0D", "\r", "%0A", "\n", "%3B", ";", "%5D", "]").Replace(data)
	}
	return strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n").Replace(data)
}

// propertyStarts tells whether a property value starts with marker
// ("variable=INJECTED"): a value gitship escapes (file=..., a hostile file
// name) is the property gitship meant.
func propertyStarts(props, marker string) bool {
	for _, p := range strings.FieldsFunc(props, func(r rune) bool { return r == ',' || r == ';' }) {
		if _, v, _ := strings.Cut(p, "="); strings.HasPrefix(strings.TrimSpace(v), marker) {
			return true
		}
	}
	return false
}

// Injected lists what, in log, the step did not mean to command: a command
// gitship never writes; one whose name or properties hold marker, or whose
// data starts with it (the hostile input became the command); and any
// command read in the decoded text of an annotation or a group title,
// which the CI shows line by line.
func Injected(kind, log, marker string) []Command {
	var bad []Command
	for _, c := range Commands(kind, log) {
		allowed := false
		for _, a := range Allowed[kind] {
			allowed = allowed || c.Name == a
		}
		if !allowed || strings.Contains(c.Name, marker) || propertyStarts(c.Properties, marker) ||
			strings.HasPrefix(strings.TrimSpace(c.Data), marker) {
			bad = append(bad, c)
			continue
		}
		switch c.Name {
		case "error", "warning", "notice", "group", "task.logissue", "##[group]":
			bad = append(bad, Commands(kind, Unescape(kind, c.Data))...)
		}
	}
	return bad
}
