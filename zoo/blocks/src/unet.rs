//! U-Net in `model!` (Ronneberger et al., 2015, with "same" padding and
//! batch norm as most reimplementations): an encoder of [`DoubleConv`]
//! blocks, each level after the first halving the resolution with a 2x2
//! max pool and doubling the width, and a decoder that goes back up level
//! by level ([`Up`]): the coarser map upsampled 2x, joined along the
//! channels with the encoder's map of the same resolution (the skip
//! connection), and a [`DoubleConv`]. A 1x1 convolution gives per-pixel
//! logits.
//!
//! [`UNet`] is the family: five resolution levels (four poolings) of
//! widths `base` to `16 * base`, so `size` must be a multiple of 16. There
//! is no transposed convolution among the layers, so the decoder upsamples
//! by repeating each pixel ([`Upsample2x`], nearest neighbour, written with
//! `Unsqueeze`, `Concat` and `Flatten`) and the [`DoubleConv`] after the
//! join maps its `inputs + skips` channels down. Instances: [`UNet64`]
//! (the original's widths 64 to 1,024, 256x256 RGB images, 2 classes) and
//! [`UNetTiny`] (widths 4 to 64, 32x32 images: CPU tests). Parameter names
//! follow the common PyTorch implementation's: `inc`, `down1..down4`,
//! `up1..up4`, `outc`.
//!
//! ```
//! use mithril_zoo::unet::UNet64;
//! assert_eq!(UNet64::OUTPUT_SHAPES, &[("logits", "[N, 256, 256, 2]")]);
//! ```

mithril::model! {
    /// U-Net's block: two 3x3 convolutions (padding 1, no bias), each
    /// followed by batch norm and ReLU, from `inputs` to `filters`
    /// channels. It keeps the resolution.
    pub DoubleConv(inputs: usize, filters: usize) {
        input x: [N, H, W, inputs];
        x -> conv1: Conv2d(filters, 3, padding = 1, bias = false) -> bn1: BatchNorm -> Relu
          -> conv2: Conv2d(filters, 3, padding = 1, bias = false) -> bn2: BatchNorm -> Relu => y;
        output y;
    }

    /// Nearest-neighbour 2x upsampling, NHWC: pixel `(h, w)` fills
    /// `(2h..2h+2, 2w..2w+2)`. `[N, H, W, C]` -> `[N, H*2, W*2, C]`.
    pub Upsample2x {
        input x: [N, H, W, C];
        x -> Unsqueeze(2) -> Unsqueeze(4) => pixels;            // [N, H, 1, W, 1, C]
        Concat(axis = 4)(pixels, pixels) => columns;           // [N, H, 1, W, 2, C]
        Concat(axis = 2)(columns, columns) -> Flatten(1, 2) -> Flatten(2, 3) => y;
        output y;
    }

    /// A decoder step at `size`x`size`: `x` (`inputs` channels) upsampled
    /// to `2 * size`, joined with the encoder's `skip` (`skips` channels),
    /// then a [`DoubleConv`] to `filters` channels.
    pub Up(size: usize, inputs: usize, skips: usize, filters: usize) {
        input x: [N, size, size, inputs], skip: [N, 2 * size, 2 * size, skips];
        x -> Upsample2x => up;
        Concat(axis = 3)(skip, up) -> conv: DoubleConv(skips + inputs, filters) => y;
        output y;
    }

    /// U-Net: `size`x`size` images of `channels` channels in, per-pixel
    /// logits of `classes` classes out (`[N, size, size, classes]`);
    /// encoder widths `base`, `2 * base`, .., `16 * base`. Its defaults
    /// are [`UNet64`]'s.
    pub UNet(base: usize = 64, size: usize = 256, channels: usize = 3, classes: usize = 2) {
        input image: [N, size, size, channels];
        image -> inc: DoubleConv(channels, base) => x1;
        x1 -> MaxPool2d(2) -> down1: DoubleConv(base, 2 * base) => x2;
        x2 -> MaxPool2d(2) -> down2: DoubleConv(2 * base, 4 * base) => x3;
        x3 -> MaxPool2d(2) -> down3: DoubleConv(4 * base, 8 * base) => x4;
        x4 -> MaxPool2d(2) -> down4: DoubleConv(8 * base, 16 * base) => x5;
        up1: Up(size / 16, 16 * base, 8 * base, 8 * base)(x5, x4) => y4;
        up2: Up(size / 8, 8 * base, 4 * base, 4 * base)(y4, x3) => y3;
        up3: Up(size / 4, 4 * base, 2 * base, 2 * base)(y3, x2) => y2;
        up4: Up(size / 2, 2 * base, base, base)(y2, x1) => y1;
        y1 -> outc: Conv2d(classes, 1) => logits;
        output logits;
    }

    /// The original U-Net's widths (64 to 1,024) on 256x256 RGB images, 2
    /// classes.
    pub UNet64 = UNet(base = 64, size = 256);
    /// Widths 4 to 64 on 32x32 RGB images, 2 classes: CPU size.
    pub UNetTiny = UNet(base = 4, size = 32);
}
