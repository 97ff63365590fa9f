//! ResNet in `model!`, in torchvision's layout (NHWC, as MLX computes):
//! a 7x7 stride-2 stem convolution with padding 3, batch norm, ReLU and a
//! 3x3 stride-2 max pool with padding 1; four stages `layer1..layer4` of
//! widths 64, 128, 256 and 512 (times the block's expansion), each stage
//! after the first halving the resolution; a global average pool and
//! `fc: Linear(classes)`. Convolutions have no bias (batch norm follows
//! each one). Where a block changes the shape, its shortcut is a strided
//! projection (a 1x1 convolution of stride `s` and batch norm, torchvision's
//! `downsample`); elsewhere it is the identity.
//!
//! The block, stage and network designs are each written once, as
//! families parameterised by width, stride and depth:
//!
//! - [`BasicBlock`], [`BasicDown`], [`BasicStage`] and [`BasicResNet`]:
//!   two 3x3 convolutions per block (ResNet-18 and 34);
//! - [`Bottleneck`], [`BottleneckDown`], [`BottleneckStage`] and
//!   [`BottleneckResNet`]: 1x1, 3x3 (strided, as torchvision's "v1.5"),
//!   1x1 with expansion 4 (ResNet-50).
//!
//! There are two network families rather than one with the block as a
//! parameter: a `Layer` parameter only takes layers without parameters of
//! their own (activations), so it cannot choose between the two blocks.
//! A stage is its first block (strided, with the projection) followed by
//! `depth - 1` identity blocks; a repeat count is at least 1, so a stage
//! has at least two blocks (`layer1` of [`BasicResNet`] keeps the shape and
//! is a repeat of [`BasicBlock`] alone).
//!
//! Instances: [`ResNet18`], [`ResNet34`] and [`ResNet50`] at 224x224x3
//! with 1,000 classes (torchvision's trainable parameter counts, exactly:
//! 11,689,512, 21,797,672 and 25,557,032; `PARAMETER_COUNT` also counts
//! batch norm's running statistics), and [`ResNetTiny`] and
//! [`BottleneckTiny`] (32x32 images, narrow stages, 10 classes: CPU
//! tests). Parameter paths read like torchvision's where `model!` allows:
//! `conv1.weight`, `layer1.0.bn2.running_var`, `layer3.first.downsample.conv.weight`,
//! `layer3.rest.1.conv2.weight`, `fc.bias`.
//!
//! ```
//! use mithril::Model;
//! use mithril_zoo::resnet::{ResNet18, ResNet50};
//! assert_eq!(ResNet18::INPUT_SHAPES, &[("image", "[N, 224, 224, 3]")]);
//! assert_eq!(ResNet50::OUTPUT_SHAPES, &[("logits", "[N, 1000]")]);
//! let trainable: usize = ResNet50::graph()
//!     .weights
//!     .iter()
//!     .filter(|w| w.trainable)
//!     .map(|w| w.len())
//!     .sum();
//! assert_eq!(trainable, 25_557_032);
//! ```

mithril::model! {
    /// The projection shortcut (torchvision's `downsample`): a 1x1
    /// convolution of stride `stride` from `inputs` to `filters` channels,
    /// and batch norm.
    pub Projection(inputs: usize, filters: usize, stride: usize) {
        input x: [N, H, W, inputs];
        x -> conv: Conv2d(filters, 1, stride = stride, bias = false) -> bn: BatchNorm => y;
        output y;
    }

    /// ResNet's basic block at `width` channels: two 3x3 convolutions with
    /// batch norm, the input added back before the last ReLU. It keeps its
    /// input's shape.
    pub BasicBlock(width: usize) {
        input x: [N, H, W, width];
        x -> conv1: Conv2d(width, 3, padding = 1, bias = false) -> bn1: BatchNorm -> Relu
          -> conv2: Conv2d(width, 3, padding = 1, bias = false) -> bn2: BatchNorm => h;
        Add(x, h) -> Relu => y;
        output y;
    }

    /// A basic block that changes the shape: from `inputs` to `width`
    /// channels, its first convolution of stride `stride`, and a projection
    /// shortcut.
    pub BasicDown(inputs: usize, width: usize, stride: usize = 2) {
        input x: [N, H, W, inputs];
        x -> conv1: Conv2d(width, 3, stride = stride, padding = 1, bias = false) -> bn1: BatchNorm
          -> Relu -> conv2: Conv2d(width, 3, padding = 1, bias = false) -> bn2: BatchNorm => h;
        x -> downsample: Projection(inputs, width, stride) => shortcut;
        Add(shortcut, h) -> Relu => y;
        output y;
    }

    /// A stage of `depth` basic blocks (at least 2): a [`BasicDown`] from
    /// `inputs` to `width` channels with stride `stride`, then
    /// `depth - 1` [`BasicBlock`]s.
    pub BasicStage(inputs: usize, width: usize, depth: usize, stride: usize = 2) {
        input x: [N, H, W, inputs];
        x -> first: BasicDown(inputs, width, stride) -> rest: BasicBlock(width) * (depth - 1) => y;
        output y;
    }

    /// ResNet with basic blocks (ResNet-18, 34): `depths[i]` blocks in
    /// stage `i + 1` (at least 2 in stages 2 to 4), widths `width`,
    /// `2 * width`, `4 * width` and `8 * width`, `size`x`size` RGB images
    /// in, `classes` logits out. Its defaults are ResNet-18's.
    pub BasicResNet(depths: [usize] = [2, 2, 2, 2], width: usize = 64, size: usize = 224, classes: usize = 1000) {
        input image: [N, size, size, 3];
        image -> conv1: Conv2d(width, 7, stride = 2, padding = 3, bias = false) -> bn1: BatchNorm
              -> Relu -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
              -> layer1: BasicBlock(width) * (depths[0])
              -> layer2: BasicStage(width, 2 * width, depths[1])
              -> layer3: BasicStage(2 * width, 4 * width, depths[2])
              -> layer4: BasicStage(4 * width, 8 * width, depths[3])
              -> avgpool: Mean(axes = [1, 2]) -> fc: Linear(classes) => logits;
        output logits;
    }

    /// ResNet's bottleneck block at `width`: 1x1 to `width`, 3x3, 1x1 to
    /// `expansion * width` channels, each with batch norm, the input added
    /// back before the last ReLU. It keeps its input's shape.
    pub Bottleneck(width: usize, expansion: usize = 4) {
        input x: [N, H, W, expansion * width];
        x -> conv1: Conv2d(width, 1, bias = false) -> bn1: BatchNorm -> Relu
          -> conv2: Conv2d(width, 3, padding = 1, bias = false) -> bn2: BatchNorm -> Relu
          -> conv3: Conv2d(expansion * width, 1, bias = false) -> bn3: BatchNorm => h;
        Add(x, h) -> Relu => y;
        output y;
    }

    /// A bottleneck block that changes the shape: from `inputs` to
    /// `expansion * width` channels, its 3x3 convolution of stride
    /// `stride` (torchvision's "v1.5"), and a projection shortcut.
    pub BottleneckDown(inputs: usize, width: usize, stride: usize = 2, expansion: usize = 4) {
        input x: [N, H, W, inputs];
        x -> conv1: Conv2d(width, 1, bias = false) -> bn1: BatchNorm -> Relu
          -> conv2: Conv2d(width, 3, stride = stride, padding = 1, bias = false) -> bn2: BatchNorm
          -> Relu -> conv3: Conv2d(expansion * width, 1, bias = false) -> bn3: BatchNorm => h;
        x -> downsample: Projection(inputs, expansion * width, stride) => shortcut;
        Add(shortcut, h) -> Relu => y;
        output y;
    }

    /// A stage of `depth` bottleneck blocks (at least 2): a
    /// [`BottleneckDown`] from `inputs` channels with stride `stride`, then
    /// `depth - 1` [`Bottleneck`]s.
    pub BottleneckStage(inputs: usize, width: usize, depth: usize, stride: usize = 2) {
        input x: [N, H, W, inputs];
        x -> first: BottleneckDown(inputs, width, stride) -> rest: Bottleneck(width) * (depth - 1) => y;
        output y;
    }

    /// ResNet with bottleneck blocks (ResNet-50): `depths[i]` blocks (at
    /// least 2) in stage `i + 1` of widths `width` to `8 * width` (outputs
    /// 4 times that), `size`x`size` RGB images in, `classes` logits out.
    /// The first stage keeps the resolution but widens `width` to
    /// `4 * width`, so it starts with a projection of stride 1. Its
    /// defaults are ResNet-50's.
    pub BottleneckResNet(depths: [usize] = [3, 4, 6, 3], width: usize = 64, size: usize = 224, classes: usize = 1000) {
        input image: [N, size, size, 3];
        image -> conv1: Conv2d(width, 7, stride = 2, padding = 3, bias = false) -> bn1: BatchNorm
              -> Relu -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
              -> layer1: BottleneckStage(width, width, depths[0], stride = 1)
              -> layer2: BottleneckStage(4 * width, 2 * width, depths[1])
              -> layer3: BottleneckStage(8 * width, 4 * width, depths[2])
              -> layer4: BottleneckStage(16 * width, 8 * width, depths[3])
              -> avgpool: Mean(axes = [1, 2]) -> fc: Linear(classes) => logits;
        output logits;
    }

    /// ResNet-18: basic blocks, 2 per stage (11,689,512 trainable parameters).
    pub ResNet18 = BasicResNet(depths = [2, 2, 2, 2]);
    /// ResNet-34: basic blocks, 3, 4, 6 and 3 per stage (21,797,672
    /// trainable parameters).
    pub ResNet34 = BasicResNet(depths = [3, 4, 6, 3]);
    /// ResNet-50: bottleneck blocks, 3, 4, 6 and 3 per stage (25,557,032
    /// trainable parameters).
    pub ResNet50 = BottleneckResNet(depths = [3, 4, 6, 3]);
    /// ResNet-18's design at CPU size: widths 8 to 64, 32x32 images, 10
    /// classes.
    pub ResNetTiny = BasicResNet(depths = [2, 2, 2, 2], width = 8, size = 32, classes = 10);
    /// ResNet-50's design at CPU size: widths 4 to 32 (outputs 16 to 128),
    /// 2 blocks per stage, 32x32 images, 10 classes.
    pub BottleneckTiny = BottleneckResNet(depths = [2, 2, 2, 2], width = 4, size = 32, classes = 10);
}

/// torchvision's ResNet checkpoint names (`layer2.0.downsample.0.weight`,
/// `layer3.1.bn2.running_var`) and [`BasicResNet`]'s paths (ResNet-18 and
/// 34), both ways: convolution weights reordered from PyTorch's
/// `O × I × H × W` to mlx.nn's `O × H × W × I`, batch norm's running
/// statistics with its weights, `num_batches_tracked` not read.
pub fn torchvision_basic() -> mithril::mapping::Mapping {
    torchvision(&["conv1", "conv2"], &["bn1", "bn2"], false)
}

/// As [`torchvision_basic`], for [`BottleneckResNet`] (ResNet-50), whose
/// every stage starts with a projecting block.
pub fn torchvision_bottleneck() -> mithril::mapping::Mapping {
    torchvision(&["conv1", "conv2", "conv3"], &["bn1", "bn2", "bn3"], true)
}

/// The rules of both: a stage's block 0 is its `first` (with the
/// `downsample` projection), blocks `j + 1` its `rest.j`; the basic
/// network's `layer1` is a plain repeat, `layer1.j`.
fn torchvision(convs: &[&str], norms: &[&str], layer1_projects: bool) -> mithril::mapping::Mapping {
    use mithril::mapping::Mapping;
    fn conv(m: Mapping, key: &str, param: &str) -> Mapping {
        m.permuted(
            &format!("{key}.weight"),
            &format!("{param}.weight"),
            &[0, 2, 3, 1],
        )
    }
    fn norm(mut m: Mapping, key: &str, param: &str) -> Mapping {
        for part in ["weight", "bias", "running_mean", "running_var"] {
            m = m.rename(&format!("{key}.{part}"), &format!("{param}.{part}"));
        }
        m.skip(&format!("{key}.num_batches_tracked"))
    }
    let mut m = norm(conv(Mapping::new(), "conv1", "conv1"), "bn1", "bn1");
    for stage in 1..=4 {
        let layer = format!("layer{stage}");
        let projects = stage > 1 || layer1_projects;
        let blocks = match projects {
            false => vec![(format!("{layer}.{{j}}"), format!("{layer}.{{j}}"))],
            true => vec![
                (format!("{layer}.0"), format!("{layer}.first")),
                (format!("{layer}.{{j+1}}"), format!("{layer}.rest.{{j}}")),
            ],
        };
        for (key, param) in blocks {
            for c in convs {
                m = conv(m, &format!("{key}.{c}"), &format!("{param}.{c}"));
            }
            for n in norms {
                m = norm(m, &format!("{key}.{n}"), &format!("{param}.{n}"));
            }
        }
        if projects {
            m = conv(
                m,
                &format!("{layer}.0.downsample.0"),
                &format!("{layer}.first.downsample.conv"),
            );
            m = norm(
                m,
                &format!("{layer}.0.downsample.1"),
                &format!("{layer}.first.downsample.bn"),
            );
        }
    }
    m.rename("fc.weight", "fc.weight")
        .rename("fc.bias", "fc.bias")
}
