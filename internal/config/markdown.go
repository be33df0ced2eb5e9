package config

import (
	"strings"
)

// Markdown renders Variables as the configuration table of the README, one
// row per variable in the order of Variables. The README embeds this text
// verbatim, so that the documentation cannot drift from what Load reads.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| variable | group | default | value | description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, v := range Variables {
		cells := []string{nameCell(v), v.Group, defaultCell(v), markdownText(v.Format), descriptionCell(v)}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// nameCell shows the name and its aliases, e.g. "`AI_KEYS` (alias `FAL_KEY`)".
func nameCell(v Variable) string {
	cell := code(v.Name)
	if len(v.Aliases) == 0 {
		return cell
	}
	aliases := make([]string, len(v.Aliases))
	for i, a := range v.Aliases {
		aliases[i] = code(a)
	}
	label := "alias"
	if len(aliases) > 1 {
		label = "aliases"
	}
	return cell + " (" + label + " " + strings.Join(aliases, ", ") + ")"
}

// defaultCell shows the default value. Commas in lists get a space after
// them so that long lists can wrap; Load ignores those spaces.
func defaultCell(v Variable) string {
	switch {
	case v.Required:
		return "*required*"
	case v.Default == "":
		return "*empty*"
	}
	return code(strings.ReplaceAll(v.Default, ",", ", "))
}

func descriptionCell(v Variable) string {
	if v.Secret {
		return v.Description + " Secret: never printed or logged."
	}
	return v.Description
}

// code wraps s in a code span; a pipe would end the table cell, so it is escaped.
func code(s string) string {
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// markdownText escapes the characters Markdown would otherwise interpret in
// plain text.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
