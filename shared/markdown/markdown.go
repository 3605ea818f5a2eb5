// Package markdown holds the few helpers step summaries and generated docs
// need to stay valid GitHub-flavoured Markdown whatever text they quote.
package markdown

import "strings"

var cell = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "\r", "", "\n", "<br>")

// Cell keeps s inside one table cell and shows it as written: a "|" or a
// newline would end the cell, and <step> would be taken for an HTML tag.
func Cell(s string) string { return cell.Replace(s) }
