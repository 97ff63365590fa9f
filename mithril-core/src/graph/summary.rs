//! `Graph::summary`: a table of every layer, as `summary()` prints it.

use super::{Graph, Weight};

impl Graph {
    /// A table of every node: name, layer, output shape, parameter count, and totals.
    pub fn summary(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "layer".into(),
            "kind".into(),
            "output shape".into(),
            "params".into(),
        ]];
        for input in &self.inputs {
            rows.push([
                input.name.clone(),
                "input".into(),
                input.shape.to_string(),
                "0".into(),
            ]);
        }
        for node in &self.nodes {
            let count: usize = self.weights[node.weights.clone()]
                .iter()
                .map(Weight::len)
                .sum();
            rows.push([
                node.name.clone(),
                node.call.clone(),
                node.shape.to_string(),
                count.to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..4)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let rule: String = widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-");
        let mut out = format!("model {}\n", self.name);
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, w))| {
                    if c == 3 {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            out.push_str(cells.join(" | ").trim_end());
            out.push('\n');
            if i == 0 {
                out.push_str(&rule);
                out.push('\n');
            }
        }
        out.push_str(&rule);
        out.push('\n');
        let outputs: Vec<String> = self
            .outputs
            .iter()
            .map(|o| format!("{}: {}", o.name, o.shape))
            .collect();
        out.push_str(&format!("outputs: {}\n", outputs.join(", ")));
        out.push_str(&format!(
            "parameters: {} in {} arrays\n",
            self.parameter_count(),
            self.weights.len()
        ));
        out
    }
}
