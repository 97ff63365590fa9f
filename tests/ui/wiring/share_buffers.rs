// Neither side of a `share` may belong to a layer with buffers: a
// BatchNorm's weight is refused as the target and as the source alike.
mithril::model! {
    pub IntoBatchNorm {
        input x: [B, 8];
        x -> bn: BatchNorm -> ln: LayerNorm => y;
        share bn.weight = ln.weight;
        output y;
    }

    pub FromBatchNorm {
        input x: [B, 8];
        x -> bn: BatchNorm -> ln: LayerNorm => y;
        share ln.weight = bn.weight;
        output y;
    }

    pub BetweenBatchNorms {
        input x: [B, 8];
        x -> bn: BatchNorm -> bn2: BatchNorm => y;
        share bn2.weight = bn.weight;
        output y;
    }
}

fn main() {
    let _ = IntoBatchNorm::PARAMETER_COUNT;
    let _ = FromBatchNorm::PARAMETER_COUNT;
    let _ = BetweenBatchNorms::PARAMETER_COUNT;
}
