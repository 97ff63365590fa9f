#[test]
fn scratch() {
    let src = std::fs::read_to_string("/tmp/scr/input.txt").unwrap();
    for case in src.split("=====") {
        let ts: proc_macro2::TokenStream = case.parse().unwrap();
        let out = mithril_dsl::expand(ts).to_string();
        println!("--- {}", case.trim().lines().next().unwrap_or(""));
        for part in out.split("compile_error").skip(1) {
            let end = part
                .find("\" }")
                .map(|e| e + 1)
                .unwrap_or(part.len().min(400));
            println!("  ERR{}", &part[..end]);
        }
    }
}
