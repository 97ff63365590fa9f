// Two models that use each other as layers.
mithril::model! {
    Ping {
        input x: [B, 8];
        x -> Pong => y;
        output y;
    }

    Pong {
        input x: [B, 8];
        x -> Ping => y;
        output y;
    }
}

fn main() {}
