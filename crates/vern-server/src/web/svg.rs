//! Bar charts as inline SVG, drawn on the server: no script, no external resource, styled by
//! the stylesheet's classes. Each bar is a `<rect class="bar …">` with the value in
//! `data-value` and a `<title>` (read by screen readers and shown on hover); the chart has
//! `role="img"` and a title, and every page also shows the numbers in a table.

/// One bar.
pub struct Bar {
    /// CSS classes, starting with `bar`.
    pub class: &'static str,
    pub value: u64,
    pub title: String,
}

/// Bars side by side under one label (a month).
pub struct Group {
    pub label: String,
    pub bars: Vec<Bar>,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 240;
const LEFT: u32 = 44;
const BOTTOM: u32 = 40;
const TOP: u32 = 12;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A grouped bar chart; `id` must be unique on the page.
pub fn bar_chart(id: &str, title: &str, groups: &[Group]) -> String {
    let id = esc(id);
    let max = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.value))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - LEFT - 8;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = u32::try_from(groups.len()).unwrap_or(1).max(1);
    let slot = plot_w / n;
    let mut out = format!(
        "<svg class=\"chart\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">{}</title>",
        esc(title)
    );
    // Axis and the top value.
    let base = TOP + plot_h;
    out.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\"/>\
         <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        WIDTH - 8,
        LEFT - 4,
        TOP + 10,
        LEFT - 4,
    ));
    for (i, g) in groups.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(0);
        let x0 = LEFT + i * slot;
        let k = u32::try_from(g.bars.len()).unwrap_or(1).max(1);
        let bar_w = ((slot.saturating_sub(4)) / k).max(1);
        for (j, b) in g.bars.iter().enumerate() {
            let j = u32::try_from(j).unwrap_or(0);
            let h = u32::try_from(u64::from(plot_h) * b.value / max).unwrap_or(plot_h);
            let x = x0 + 2 + j * bar_w;
            let y = base - h;
            out.push_str(&format!(
                "<rect class=\"{}\" x=\"{x}\" y=\"{y}\" width=\"{bar_w}\" height=\"{h}\" \
                 data-label=\"{}\" data-value=\"{}\"><title>{}</title></rect>",
                esc(b.class),
                esc(&g.label),
                b.value,
                esc(&b.title)
            ));
        }
        // Every third label, so they do not overlap.
        if n <= 12 || i % 3 == 0 {
            out.push_str(&format!(
                "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x0 + slot / 2,
                base + 16,
                esc(&g.label)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rect_per_bar_with_escaped_titles() {
        let groups: Vec<Group> = (0..24)
            .map(|i| Group {
                label: format!("m{i}"),
                bars: vec![Bar {
                    class: "bar forecast",
                    value: i,
                    title: format!("<m{i}>"),
                }],
            })
            .collect();
        let svg = bar_chart("f", "Forecast & more", &groups);
        assert_eq!(svg.matches("<rect class=\"bar forecast\"").count(), 24);
        assert!(svg.contains("Forecast &amp; more"));
        assert!(svg.contains("&lt;m3&gt;"));
        assert!(svg.contains("data-value=\"23\""));
        assert!(!svg.contains("<m3>"));
    }

    #[test]
    fn an_empty_chart_draws_no_bars() {
        let svg = bar_chart("e", "Empty", &[]);
        assert!(!svg.contains("<rect"));
    }
}
