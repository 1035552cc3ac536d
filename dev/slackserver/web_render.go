package slackserver

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// Names resolves the IDs in mentions and file references while rendering to HTML.
type Names struct {
	// Users maps user IDs to names, Channels channel IDs to names.
	Users, Channels map[string]string
	// FileURL returns where a browser can fetch a file by ID; nil shows file images by name.
	FileURL func(id string) string
}

// slackEntities undoes Slack's three escapes (&amp; &lt; &gt;) in one pass.
var slackEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// esc shows Slack-escaped text as the characters it stands for, HTML-escaped.
func esc(s string) string { return html.EscapeString(slackEntities.Replace(s)) }

var (
	codeSpan    = regexp.MustCompile("`[^`\n]+`")
	angleToken  = regexp.MustCompile(`<[^<>\n]+>`)
	emojiCode   = regexp.MustCompile(`:([a-z0-9_+-]+):`)
	placeholder = regexp.MustCompile("\x00([0-9]+)\x00")
)

// emoji holds the shortcodes perfbot and the runbook use, shown as the characters Slack shows.
var emoji = map[string]string{
	"red_circle": "🔴", "large_yellow_circle": "🟡", "large_green_circle": "🟢", "white_circle": "⚪",
	"warning": "⚠️", "rotating_light": "🚨", "fire": "🔥", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
	"page_facing_up": "📄", "electric_plug": "🔌", "pushpin": "📌", "bell": "🔔", "memo": "📝",
	"stopwatch": "⏱️", "turtle": "🐢", "white_check_mark": "✅", "x": "❌", "smile": "😄",
	"heavy_check_mark": "✔️", "chart_with_upwards_trend": "📈", "mag": "🔍", "lock": "🔒", "tada": "🎉",
	"thumbsup": "👍", "+1": "👍", "eyes": "👀", "information_source": "ℹ️", "no_entry": "⛔",
}

func emojify(s string) string {
	return emojiCode.ReplaceAllStringFunc(s, func(m string) string {
		if e, ok := emoji[m[1:len(m)-1]]; ok {
			return emojiSpan(e, m)
		}
		return m
	})
}

// emojiSpan wraps an emoji glyph with its :name:, which the page shows instead on a machine
// without an emoji font.
func emojiSpan(glyph, name string) string {
	return `<span class="emoji" data-name="` + esc(name) + `" role="img" aria-label="` + esc(strings.Trim(name, ":")) + `">` + glyph + `</span>`
}

// MrkdwnHTML renders Slack mrkdwn (*bold*, _italic_, ~strike~, `code`, ```blocks```,
// <@U…>, <#C…>, <!here>, <url|label>, :emoji:) as HTML; all text is escaped first.
func MrkdwnHTML(text string, n Names) string {
	parts := strings.Split(strings.ReplaceAll(text, "\x00", ""), "```")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString(`<pre class="code">` + esc(strings.Trim(p, "\n")) + `</pre>`)
		case i%2 == 1:
			b.WriteString(inline("```"+p, n)) // an unclosed fence is text
		default:
			b.WriteString(inline(p, n))
		}
	}
	return b.String()
}

// inline renders one stretch of mrkdwn outside code blocks. Code spans and angle tokens
// become placeholders first so emphasis markers inside them are left alone.
func inline(s string, n Names) string {
	var held []string
	hold := func(h string) string {
		held = append(held, h)
		return "\x00" + strconv.Itoa(len(held)-1) + "\x00"
	}
	s = codeSpan.ReplaceAllStringFunc(s, func(m string) string {
		return hold(`<code>` + esc(m[1:len(m)-1]) + `</code>`)
	})
	s = angleToken.ReplaceAllStringFunc(s, func(m string) string { return hold(angleHTML(m[1:len(m)-1], n)) })
	s = esc(s)
	s = emphasis(s, '*', "<strong>", "</strong>")
	s = emphasis(s, '_', "<em>", "</em>")
	s = emphasis(s, '~', "<del>", "</del>")
	s = emojify(s)
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		i, _ := strconv.Atoi(m[1 : len(m)-1])
		return held[i]
	})
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// emphasis wraps mark…mark spans that start and end at word boundaries on one line.
func emphasis(s string, mark byte, open, close string) string {
	if strings.IndexByte(s, mark) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == mark && (i == 0 || !isWord(s[i-1])) && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != mark {
			if j := strings.IndexByte(s[i+1:], mark); j > 0 {
				j += i + 1
				seg := s[i+1 : j]
				if !strings.Contains(seg, "\n") && s[j-1] != ' ' && (j+1 == len(s) || !isWord(s[j+1])) {
					b.WriteString(open + seg + close)
					i = j + 1
					continue
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// angleHTML renders the inside of one <…>: a mention, a special mention or a link.
func angleHTML(t string, n Names) string {
	ref, label, hasLabel := strings.Cut(t, "|")
	mention := func(s string) string { return `<span class="mention">` + esc(s) + `</span>` }
	switch {
	case strings.HasPrefix(ref, "@"):
		if name := n.Users[ref[1:]]; name != "" {
			return mention("@" + name)
		}
		return mention("@" + strings.TrimPrefix(orElse(label, ref[1:]), "@"))
	case strings.HasPrefix(ref, "#"):
		if name := n.Channels[ref[1:]]; name != "" {
			return mention("#" + name)
		}
		return mention("#" + orElse(label, ref[1:]))
	case ref == "!here" || ref == "!channel" || ref == "!everyone":
		return mention("@" + ref[1:])
	case strings.HasPrefix(ref, "!subteam^"):
		return mention(orElse(label, "@"+strings.TrimPrefix(ref, "!subteam^")))
	case strings.HasPrefix(ref, "!date^") && hasLabel:
		return esc(label)
	}
	url := slackEntities.Replace(ref)
	if safeURL(url) {
		return `<a href="` + html.EscapeString(url) + `" target="_blank" rel="noopener noreferrer">` +
			esc(orElse(label, ref)) + `</a>`
	}
	return esc("<" + t + ">")
}

func orElse(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// safeURL allows only links a browser opens as pages or mail, never javascript: or data:.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:")
}

// BlocksHTML renders Block Kit blocks as HTML: header, section (text, fields, accessory),
// context, divider, table, actions (buttons), image, markdown and rich_text; other block
// types show their type. Invalid JSON renders nothing.
func BlocksHTML(raw json.RawMessage, n Names) string {
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(blockHTML(bl, n))
	}
	return b.String()
}

func blockHTML(bl map[string]any, n Names) string {
	switch typ := jstr(bl, "type"); typ {
	case "header":
		return `<div class="b-header">` + textHTML(jobj(bl, "text"), n) + `</div>`
	case "section":
		return sectionHTML(bl, n)
	case "context":
		return `<div class="b-context">` + elementsHTML(jarr(bl, "elements"), n) + `</div>`
	case "divider":
		return `<hr class="b-divider">`
	case "actions":
		return `<div class="b-actions">` + elementsHTML(jarr(bl, "elements"), n) + `</div>`
	case "image":
		return `<figure class="b-image">` + imageHTML(bl, n) + `</figure>`
	case "table":
		return tableHTML(bl, n)
	case "markdown":
		// Markdown's **bold** is mrkdwn's *bold*; the rest of what bots write reads the same.
		return `<div class="b-markdown">` + MrkdwnHTML(strings.ReplaceAll(jstr(bl, "text"), "**", "*"), n) + `</div>`
	case "rich_text":
		return `<div class="b-rich">` + richHTML(jarr(bl, "elements"), n) + `</div>`
	default:
		return `<div class="b-unknown">[` + html.EscapeString(typ) + ` block]</div>`
	}
}

func sectionHTML(bl map[string]any, n Names) string {
	var b strings.Builder
	b.WriteString(`<div class="b-section"><div class="b-main">`)
	if t := jobj(bl, "text"); t != nil {
		b.WriteString(`<div class="b-text">` + textHTML(t, n) + `</div>`)
	}
	if fs := jarr(bl, "fields"); len(fs) > 0 {
		b.WriteString(`<div class="b-fields">`)
		for _, f := range fs {
			f, _ := f.(map[string]any)
			b.WriteString(`<div class="b-field">` + textHTML(f, n) + `</div>`)
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	if acc := jobj(bl, "accessory"); acc != nil {
		b.WriteString(`<div class="b-accessory">` + elementsHTML([]any{acc}, n) + `</div>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}

// textHTML renders a text object: mrkdwn, or plain_text with its :emoji: shown.
func textHTML(t map[string]any, n Names) string {
	if t == nil {
		return ""
	}
	if jstr(t, "type") == "mrkdwn" {
		return `<span class="mrkdwn">` + MrkdwnHTML(jstr(t, "text"), n) + `</span>`
	}
	return `<span class="plain">` + emojify(html.EscapeString(jstr(t, "text"))) + `</span>`
}

// elementsHTML renders context or actions elements: text, images, buttons, others by type.
func elementsHTML(els []any, n Names) string {
	var b strings.Builder
	for _, e := range els {
		el, _ := e.(map[string]any)
		switch typ := jstr(el, "type"); typ {
		case "mrkdwn", "plain_text":
			b.WriteString(`<span class="b-elem">` + textHTML(el, n) + `</span>`)
		case "image":
			b.WriteString(imageHTML(el, n))
		case "button":
			b.WriteString(buttonHTML(el, n))
		default:
			label := textHTML(jobj(el, "placeholder"), n)
			b.WriteString(`<span class="b-elem b-other">[` + html.EscapeString(typ) + `] ` + label + `</span>`)
		}
	}
	return b.String()
}

// buttonHTML renders a button the page's script turns into a block_actions click.
func buttonHTML(el map[string]any, n Names) string {
	class := "b-button"
	if st := jstr(el, "style"); st == "primary" || st == "danger" {
		class += " " + st
	}
	attrs := ` data-action="` + html.EscapeString(jstr(el, "action_id")) + `"`
	if c := jobj(el, "confirm"); c != nil {
		attrs += ` data-confirm="` + html.EscapeString(confirmText(c)) + `"`
	}
	if u := jstr(el, "url"); safeURL(u) {
		attrs += ` data-url="` + html.EscapeString(u) + `"`
	}
	return `<button type="button" class="` + class + `"` + attrs + `>` + textHTML(jobj(el, "text"), n) + `</button>`
}

// confirmText is what window.confirm shows: the dialog's title, text and choices as plain text.
func confirmText(c map[string]any) string {
	plain := func(k string) string { return slackEntities.Replace(jstr(jobj(c, k), "text")) }
	s := plain("text")
	if t := plain("title"); t != "" {
		s = t + "\n\n" + s
	}
	if ok, no := plain("confirm"), plain("deny"); ok != "" || no != "" {
		s += "\n\n[OK] " + orElse(ok, "Yes") + "   [Cancel] " + orElse(no, "Cancel")
	}
	return s
}

// imageHTML renders an image block or element from image_url or a slack_file reference.
func imageHTML(el map[string]any, n Names) string {
	src := jstr(el, "image_url")
	if f := jobj(el, "slack_file"); f != nil && n.FileURL != nil && jstr(f, "id") != "" {
		src = n.FileURL(jstr(f, "id"))
	} else if !safeURL(src) {
		return `<span class="b-elem">[image: ` + html.EscapeString(jstr(el, "alt_text")) + `]</span>`
	}
	out := ""
	if t := jobj(el, "title"); t != nil {
		out = `<figcaption>` + textHTML(t, n) + `</figcaption>`
	}
	return out + `<img src="` + html.EscapeString(src) + `" alt="` + html.EscapeString(jstr(el, "alt_text")) + `" loading="lazy">`
}

// tableHTML renders a table block; its first row is the header, columns aligned as set.
func tableHTML(bl map[string]any, n Names) string {
	var align []string
	for _, c := range jarr(bl, "column_settings") {
		cs, _ := c.(map[string]any)
		align = append(align, jstr(cs, "align"))
	}
	var b strings.Builder
	b.WriteString(`<div class="b-table"><table>`)
	for i, r := range jarr(bl, "rows") {
		row, _ := r.([]any)
		cell := "td"
		if i == 0 {
			cell = "th"
		}
		b.WriteString(`<tr>`)
		for j, c := range row {
			cm, _ := c.(map[string]any)
			class := ""
			if j < len(align) && (align[j] == "right" || align[j] == "center") {
				class = ` class="` + align[j] + `"`
			}
			body := html.EscapeString(jstr(cm, "text"))
			if jstr(cm, "type") == "rich_text" {
				body = richHTML(jarr(cm, "elements"), n)
			}
			b.WriteString(`<` + cell + class + `>` + body + `</` + cell + `>`)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</table></div>`)
	return b.String()
}

func jstr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func jobj(m map[string]any, k string) map[string]any { o, _ := m[k].(map[string]any); return o }

func jarr(m map[string]any, k string) []any { a, _ := m[k].([]any); return a }

// fileHTML shows an image file inline and any other file as a download link.
func fileHTML(f File, channelID, id string) string {
	url := escText(fileURL(channelID, id))
	name := escText(orElse(f.Title, orElse(f.Name, id)))
	if strings.HasSuffix(strings.ToLower(f.Name), ".png") {
		return `<figure class="file"><figcaption>` + name + `</figcaption><a href="` + url +
			`" target="_blank"><img src="` + url + `" alt="` + escText(orElse(f.AltText, f.Name)) + `"></a></figure>`
	}
	return fmt.Sprintf(`<div class="file"><a href="%s" download>📎 %s</a> <span class="note">%d bytes</span></div>`, url, name, len(f.Bytes))
}

// attachmentsHTML shows legacy attachments: a bar, then their blocks or their text.
func attachmentsHTML(raw json.RawMessage, n Names) string {
	var atts []map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &atts) != nil {
		return ""
	}
	var b strings.Builder
	for _, a := range atts {
		b.WriteString(`<div class="attachment">`)
		if bl, _ := json.Marshal(a["blocks"]); len(jarr(a, "blocks")) > 0 {
			b.WriteString(BlocksHTML(bl, n))
		} else {
			b.WriteString(`<div class="mrkdwn">` + MrkdwnHTML(orElse(jstr(a, "text"), jstr(a, "fallback")), n) + `</div>`)
		}
		b.WriteString(`</div>`)
	}
	return b.String()
}

// richHTML renders rich_text elements: sections, lists (as bullets), preformatted text, quotes.
func richHTML(els []any, n Names) string {
	var b strings.Builder
	for _, e := range els {
		el, _ := e.(map[string]any)
		inner := jarr(el, "elements")
		switch jstr(el, "type") {
		case "rich_text_section", "rich_text_preformatted", "rich_text_quote":
			class := map[string]string{"rich_text_preformatted": "code", "rich_text_quote": "quote"}[jstr(el, "type")]
			b.WriteString(`<div class="` + class + `">` + richInline(inner, n) + `</div>`)
		case "rich_text_list":
			b.WriteString(`<ul>`)
			for _, it := range inner {
				item, _ := it.(map[string]any)
				b.WriteString(`<li>` + richInline(jarr(item, "elements"), n) + `</li>`)
			}
			b.WriteString(`</ul>`)
		default:
			b.WriteString(richInline([]any{el}, n))
		}
	}
	return b.String()
}

// richInline renders the inline elements of a rich_text section (raw text, not Slack-escaped).
func richInline(els []any, n Names) string {
	var b strings.Builder
	for _, e := range els {
		el, _ := e.(map[string]any)
		switch jstr(el, "type") {
		case "text":
			b.WriteString(styled(html.EscapeString(jstr(el, "text")), jobj(el, "style")))
		case "link":
			if u := jstr(el, "url"); safeURL(u) {
				b.WriteString(`<a href="` + html.EscapeString(u) + `" target="_blank" rel="noopener noreferrer">` +
					html.EscapeString(orElse(jstr(el, "text"), u)) + `</a>`)
			}
		case "user":
			b.WriteString(angleHTML("@"+jstr(el, "user_id"), n))
		case "channel":
			b.WriteString(angleHTML("#"+jstr(el, "channel_id"), n))
		case "usergroup":
			b.WriteString(angleHTML("!subteam^"+jstr(el, "usergroup_id"), n))
		case "broadcast":
			b.WriteString(angleHTML("!"+jstr(el, "range"), n))
		case "emoji":
			b.WriteString(emojify(":" + html.EscapeString(jstr(el, "name")) + ":"))
		}
	}
	return b.String()
}

func styled(s string, st map[string]any) string {
	for _, w := range []struct{ key, open, close string }{
		{"code", "<code>", "</code>"}, {"bold", "<strong>", "</strong>"},
		{"italic", "<em>", "</em>"}, {"strike", "<del>", "</del>"},
	} {
		if on, _ := st[w.key].(bool); on {
			s = w.open + s + w.close
		}
	}
	return s
}
