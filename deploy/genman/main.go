// Command genman writes the man pages of dock-agent and dockctl from their
// own -h output, which the flag package prints from the flag sets: so the
// pages list exactly the flags the binaries have. scripts/deb.sh runs it at
// package build with binaries built for the build machine:
//
//	go run ./deploy/genman -bin BIN -section 8 -title "..." -version V -date 2026-12-05 >dock-agent.8
//
// It runs "BIN -h"; when that usage lists commands (dockctl), it runs
// "BIN COMMAND -h" for each and gives every command its own subsection.
// The usage layout it reads is the one both binaries print:
//
//	usage: SYNOPSIS
//
//	paragraphs of description
//
//	commands:           (dockctl only: "  NAME  summary" lines)
//	examples:           ("  command line" lines)
//	flags:              (flag.PrintDefaults)
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("genman", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "the `binary` to document (run with -h)")
	section := fs.String("section", "1", "manual `section`: 1 user commands, 8 system administration")
	title := fs.String("title", "", "one-line `description` for the NAME section")
	ver := fs.String("version", "", "the package `version` for the page footer")
	date := fs.String("date", "", "the `date` of the page (YYYY-MM-DD; the release's, for reproducible pages)")
	seeAlso := fs.String("see-also", "", "comma-separated `pages` such as dockctl(1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bin == "" || *title == "" || *date == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: genman -bin BIN -title TEXT -date YYYY-MM-DD [-section N] [-version V] [-see-also PAGES]")
		return 2
	}
	top, err := help(*bin)
	if err != nil {
		fmt.Fprintf(stderr, "genman: %v\n", err)
		return 1
	}
	u := parseUsage(top)
	// The program's name is the synopsis's first word, whatever the
	// binary's file is called.
	name := strings.Fields(u.synopsis + " " + filepath.Base(*bin))[0]
	page := manPage{name: name, section: *section, title: *title, version: *ver, date: *date, usage: u}
	for _, c := range page.usage.commands {
		u, err := help(*bin, c.name)
		if err != nil {
			fmt.Fprintf(stderr, "genman: %v\n", err)
			return 1
		}
		page.commands = append(page.commands, command{name: c.name, summary: c.summary, usage: parseUsage(u)})
	}
	if *seeAlso != "" {
		page.seeAlso = strings.Split(*seeAlso, ",")
	}
	if _, err := io.WriteString(stdout, page.roff()); err != nil {
		fmt.Fprintf(stderr, "genman: write: %v\n", err)
		return 1
	}
	return 0
}

// help runs "bin args... -h" and returns its usage, which must come on
// stdout with exit status 0.
func help(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, append(args, "-h")...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("run %s %s -h: %w (stderr: %s)", bin, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	if !strings.HasPrefix(out.String(), "usage: ") {
		return "", errors.New(bin + " " + strings.Join(args, " ") + " -h: stdout does not start with \"usage: \"")
	}
	return out.String(), nil
}

// usage is one parsed -h output.
type usage struct {
	synopsis string
	about    []string // paragraphs, lines joined by newlines
	commands []command
	examples []string
	flags    []flagDoc
}

type command struct {
	name, summary string
	usage         usage
}

type flagDoc struct {
	name, arg string // "config", "file"
	text      string // the usage, lines joined by spaces
}

// parseUsage reads the layout described in the package comment.
func parseUsage(s string) usage {
	var u usage
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	section := "about"
	var para []string
	endPara := func() {
		if len(para) > 0 {
			u.about = append(u.about, strings.Join(para, "\n"))
			para = nil
		}
	}
	for i, l := range lines {
		if i == 0 {
			u.synopsis = strings.TrimPrefix(l, "usage: ")
			continue
		}
		switch l {
		case "commands:", "examples:", "flags:":
			endPara()
			section = strings.TrimSuffix(l, ":")
			continue
		}
		switch section {
		case "about":
			if strings.TrimSpace(l) == "" {
				endPara()
			} else {
				para = append(para, l)
			}
		case "commands":
			if f := strings.Fields(l); len(f) >= 1 && strings.HasPrefix(l, "  ") {
				u.commands = append(u.commands, command{name: f[0], summary: strings.Join(f[1:], " ")})
			} else if strings.TrimSpace(l) != "" {
				// Text after the list belongs to the description.
				section = "about"
				para = append(para, l)
			}
		case "examples":
			if strings.TrimSpace(l) != "" {
				u.examples = append(u.examples, strings.TrimPrefix(l, "  "))
			}
		case "flags":
			// flag.PrintDefaults: "  -name arg" then "    \tusage" lines, or
			// "  -x\tusage" for a short name without argument.
			switch {
			case strings.HasPrefix(l, "  -"):
				head, text, _ := strings.Cut(strings.TrimPrefix(l, "  -"), "\t")
				name, arg, _ := strings.Cut(head, " ")
				u.flags = append(u.flags, flagDoc{name: name, arg: arg, text: text})
			case strings.HasPrefix(l, "    \t") && len(u.flags) > 0:
				f := &u.flags[len(u.flags)-1]
				f.text = strings.TrimSpace(f.text + " " + strings.TrimPrefix(l, "    \t"))
			}
		}
	}
	endPara()
	return u
}

// manPage is one page in roff (man(7) macros).
type manPage struct {
	name, section, title, version, date string
	usage                               usage
	commands                            []command
	seeAlso                             []string
}

// esc escapes text for roff: backslashes, a leading period or quote (which
// would start a request) and hyphens in words (minus signs, not breakable
// hyphens, as options and paths need).
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func (p manPage) roff() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(".\\\" Generated by deploy/genman from %s -h; DO NOT EDIT.\n", p.name)
	w(".TH %s %s %q %q %q\n", strings.ToUpper(esc(p.name)), p.section, p.date, "dock-agent "+p.version, "Dock Agent")
	w(".SH NAME\n%s \\- %s\n", esc(p.name), esc(p.title))
	w(".SH SYNOPSIS\n")
	if len(p.commands) == 0 {
		w(".B %s\n%s\n", esc(p.name), esc(strings.TrimSpace(strings.TrimPrefix(p.usage.synopsis, p.name))))
	} else {
		w(".nf\n")
		for _, c := range p.commands {
			w("%s\n", esc(c.usage.synopsis))
		}
		w(".fi\n")
	}
	w(".SH DESCRIPTION\n")
	for i, para := range p.usage.about {
		if i > 0 {
			w(".PP\n")
		}
		paragraph(&b, para)
	}
	if len(p.usage.flags) > 0 {
		w(".SH OPTIONS\n")
		flags(&b, p.usage.flags)
	}
	if len(p.commands) > 0 {
		w(".SH COMMANDS\n")
		for _, c := range p.commands {
			w(".SS %s\n", esc(c.name))
			w(".nf\n%s\n.fi\n", esc(c.usage.synopsis))
			for _, para := range c.usage.about {
				w(".PP\n")
				paragraph(&b, para)
			}
			if len(c.usage.flags) > 0 {
				w(".PP\nFlags:\n")
				flags(&b, c.usage.flags)
			}
			if len(c.usage.examples) > 0 {
				w(".PP\nExamples:\n")
				examples(&b, c.usage.examples)
			}
		}
	}
	if len(p.usage.examples) > 0 {
		w(".SH EXAMPLES\n")
		examples(&b, p.usage.examples)
	}
	if len(p.seeAlso) > 0 {
		w(".SH SEE ALSO\n")
		for i, s := range p.seeAlso {
			name, sec, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(s), ")"), "(")
			sep := ","
			if i == len(p.seeAlso)-1 {
				sep = ""
			}
			w(".BR %s (%s)%s\n", esc(name), sec, sep)
		}
		w(".PP\nThe documentation in /usr/share/doc/dock\\-agent/.\n")
	}
	return b.String()
}

// paragraph writes running text; the line breaks of -h are kept, as roff
// fills lines anyway.
func paragraph(b *strings.Builder, para string) {
	for l := range strings.SplitSeq(para, "\n") {
		fmt.Fprintf(b, "%s\n", esc(strings.TrimSpace(l)))
	}
}

func flags(b *strings.Builder, fs []flagDoc) {
	for _, f := range fs {
		if f.arg != "" {
			fmt.Fprintf(b, ".TP\n.BI \"\\-%s \" \"%s\"\n", esc(f.name), esc(f.arg))
		} else {
			fmt.Fprintf(b, ".TP\n.B \\-%s\n", esc(f.name))
		}
		fmt.Fprintf(b, "%s\n", esc(f.text))
	}
}

func examples(b *strings.Builder, ex []string) {
	b.WriteString(".PP\n.RS\n.nf\n")
	for _, e := range ex {
		fmt.Fprintf(b, "%s\n", esc(e))
	}
	b.WriteString(".fi\n.RE\n")
}
