// A misspelt path and a model used without its `use`: rustc reports each
// at the path (suggesting the import), and code using the models reports
// nothing more.
mod blocks {
    mithril::model! {
        pub(crate) Block {
            input x: [B, 8];
            x -> Linear(8) => y;
            output y;
        }
    }
}

mithril::model! {
    Misspelt {
        input x: [B, 8];
        x -> blocks::Blok => y;
        output y;
    }
}

mithril::model! {
    NotImported {
        input x: [B, 8];
        x -> Block => y;
        output y;
    }
}

fn main() {
    let backend = mithril::MlxBackend::new().unwrap();
    let _ = Misspelt::init(&backend);
    let _ = NotImported::forward;
    let _ = mithril::compile::<NotImported>(&backend);
}
