package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds every binding of the console. The footer and the full
// help (?) are generated from it, so what is shown is what works.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Open, Back, Clear                     key.Binding
	Filter, Flat, Hex, Wrap, Refresh, Log key.Binding
	Copy, CopyValue                       key.Binding
	History, Restore, Export              key.Binding
	New, Edit, Delete                     key.Binding
	Help, Quit, ForceQuit                 key.Binding
	// Editor and prompts.
	Save, Cancel, Next, Confirm key.Binding
	readOnly                    bool
	short                       []ranked // the footer, built once
}

func newKeyMap(readOnly bool) keyMap {
	b := func(help string, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := keyMap{
		Up:        b("↑/k", hlpUp, "up", "k"),
		Down:      b("↓/j", hlpDown, "down", "j"),
		PageUp:    b("pgup/b", hlpPageUp, "pgup", "b", "ctrl+b"),
		PageDown:  b("pgdn/space", hlpPageDown, "pgdown", " ", "ctrl+f"),
		Home:      b("g/home", hlpHome, "g", "home"),
		End:       b("G/end", hlpEnd, "G", "end"),
		Open:      b("enter/→", hlpOpen, "enter", "right", "l"),
		Back:      b("←/h", hlpBack, "left", "h", "backspace"),
		Clear:     b("esc", hlpClear, "esc"),
		Filter:    b("/", hlpFilter, "/"),
		Flat:      b("t", hlpFlat, "t"),
		Hex:       b("x", hlpHex, "x"),
		Wrap:      b("w", hlpWrap, "w"),
		Copy:      b("c", hlpCopy, "c"),
		CopyValue: b("C", hlpCopyValue, "C"),
		Refresh:   b("r", hlpRefresh, "r"),
		History:   b("H", hlpHistory, "H"),
		Restore:   b("R", hlpRestore, "R"),
		Export:    b("E", hlpExport, "E"),
		Log:       b("L", hlpLog, "L"),
		New:       b("n", hlpNew, "n"),
		Edit:      b("e", hlpEdit, "e"),
		Delete:    b("d", hlpDelete, "d"),
		Help:      b("?", hlpHelp, "?"),
		Quit:      b("q", hlpQuit, "q"),
		ForceQuit: b("ctrl+c", hlpForceQuit, "ctrl+c"),
		Save:      b("ctrl+s", hlpSave, "ctrl+s"),
		Cancel:    b("esc", hlpCancel, "esc"),
		Next:      b("enter", hlpNext, "enter"),
		Confirm:   b("y", hlpConfirm, "y"),
		readOnly:  readOnly,
	}
	k.short = k.shortHelp()
	return k
}

// short relabels a binding for the footer, where space is tight.
func short(b key.Binding, keys string) key.Binding {
	b.SetHelp(keys, b.Help().Desc)
	return b
}

// relabel gives a binding a shorter description for the footer.
func relabel(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// footer is the browser's footer: the main bindings, ranked for a narrow
// screen.
func (k keyMap) footer() []ranked { return k.short }

func (k keyMap) shortHelp() []ranked {
	out := []ranked{{short(k.Open, "enter"), rankMain}, {short(k.Back, "←"), rankMain}, {k.Filter, rankMinor}}
	if k.readOnly {
		out = append(out, ranked{k.Flat, rankMinor}, ranked{k.Hex, rankMinor})
	} else {
		out = append(out, ranked{k.New, rankMinor}, ranked{k.Edit, rankMinor}, ranked{k.Delete, rankMinor})
	}
	out = append(out, ranked{relabel(k.History, hlpHistoryShort), rankMinor}, ranked{relabel(k.Export, hlpExportShort), rankMinor})
	return append(out, ranked{k.Help, rankKeep}, ranked{k.Quit, rankKeep})
}

// FullHelp is every binding, grouped in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	edit := []key.Binding{k.New, k.Edit, k.Delete, k.Save, k.Confirm}
	history := []key.Binding{k.History, k.Restore}
	if k.readOnly {
		edit, history = nil, history[:1]
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Open, k.Back, k.Clear, k.Filter, k.Flat, k.Hex, k.Wrap},
		append(edit, k.Copy, k.CopyValue, k.Refresh),
		append(history, k.Export, k.Log, k.Help, k.Quit, k.ForceQuit),
	}
}

// editorHelp is the footer while editing.
func (k keyMap) editorHelp(keyStep bool) []key.Binding {
	if keyStep {
		return []key.Binding{k.Next, k.Cancel, k.ForceQuit}
	}
	return []key.Binding{k.Save, k.Cancel, k.ForceQuit}
}
