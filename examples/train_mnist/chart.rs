//! The training chart: loss (per batch and per epoch) beside test accuracy
//! per epoch, drawn with plotters into a pixel buffer and encoded as PNG.
//!
//! Text: plotters' own `ab_glyph` renderer (0.3.7) places every glyph's ink
//! at the pen position, ignoring its left side bearing, so words come out
//! with uneven letter spacing and spaces all but vanish
//! (<https://github.com/plotters-rs/plotters/issues/576>). [`GlyphText`] wraps the bitmap backend and lays text out with
//! ab_glyph itself, bearings and kerning included. The font,
//! `fonts/DejaVuSans-subset.ttf`, is DejaVu Sans cut down to Latin-1 (see
//! `fonts/README.md`) and compiled into the example: no system fonts needed.

use std::error::Error;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

const FONT: &[u8] = include_bytes!("fonts/DejaVuSans-subset.ttf");
const SANS: &str = "sans-serif";
/// Batches in the loss curve's moving average (at most).
const SMOOTH: usize = 21;

type BoxError = Box<dyn Error + Send + Sync>;

fn font() -> Result<&'static FontRef<'static>, BoxError> {
    static PARSED: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    PARSED
        .get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
        .ok_or_else(|| "the chart's embedded font could not be parsed".into())
}

/// A drawing backend that renders text with ab_glyph (see the module docs)
/// and passes everything else to the backend it wraps.
pub struct GlyphText<B> {
    inner: B,
    font: &'static FontRef<'static>,
}

impl<B: DrawingBackend> GlyphText<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Result<Self, BoxError> {
        Ok(GlyphText {
            inner,
            font: font()?,
        })
    }

    /// Width and height of `text` at `size` px (the font's ascent to descent).
    fn measure(&self, text: &str, size: f64) -> (f32, f32) {
        let font = self.font.as_scaled(PxScale::from(size as f32));
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        (width, font.ascent() - font.descent())
    }
}

impl<B: DrawingBackend> DrawingBackend for GlyphText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h) = self.measure(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let scale = PxScale::from(style.size() as f32);
        let font = self.font.as_scaled(scale);
        let (width, height) = self.measure(text, style.size());
        // Where the box's top-left corner goes, relative to the anchor.
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let mut pixels = Vec::new();
        let mut pen = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                pen += font.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(dx + pen, dy + font.ascent()));
            pen += font.h_advance(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|x, y, coverage| {
                    if coverage > 0.0 {
                        pixels.push((
                            bounds.min.x as i32 + x as i32,
                            bounds.min.y as i32 + y as i32,
                            coverage,
                        ));
                    }
                });
            }
        }
        for (x, y, coverage) in pixels {
            let (x, y) = transform.transform(x, y);
            let shaded = BackendColor {
                alpha: color.alpha * f64::from(coverage.min(1.0)),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + x, pos.1 + y), shaded)?;
        }
        Ok(())
    }
}

/// What the chart shows.
pub struct TrainingCurves<'a> {
    /// The headline.
    pub title: &'a str,
    /// Epochs planned (the x axis spans 0..epochs).
    pub epochs: usize,
    /// Every batch's loss, at its position in epochs (1.5 = half-way through epoch 2).
    pub batch_losses: &'a [(f64, f64)],
    /// The mean training loss of each finished epoch.
    pub epoch_losses: &'a [f64],
    /// Test accuracy (a fraction) after each finished epoch.
    pub test_accuracies: &'a [f64],
}

/// Draws `curves` on a `width` x `height` canvas and returns the PNG bytes.
pub fn render_png(
    curves: &TrainingCurves,
    (width, height): (u32, u32),
) -> Result<Vec<u8>, BoxError> {
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let backend = GlyphText::new(BitMapBackend::with_buffer(&mut pixels, (width, height)))?;
        let root = backend.into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(curves.title, (SANS, 22).into_font().color(&BLACK))?;
        let (left, right) = body.split_horizontally(width / 2);
        draw_loss(&left, curves)?;
        draw_accuracy(&right, curves)?;
        root.present()?;
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png_bytes)
}

type Area<'a> = DrawingArea<GlyphText<BitMapBackend<'a>>, Shift>;

/// The x axis: epochs 0..=epochs with a little room on the right for the
/// last point's label.
fn x_range(epochs: usize) -> std::ops::Range<f64> {
    0.0..epochs.max(1) as f64 * 1.06
}

/// Tick labels on whole epochs only.
fn epoch_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// Ticks for a log axis over `lo..hi`: 1, 2 and 5 times powers of ten.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    for exponent in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in [1.0, 2.0, 5.0] {
            let t = m * 10f64.powi(exponent);
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// A tick label without trailing zeros: 0.05, 0.2, 1, 2.
fn short_number(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A legend in the plotting area's upper-right corner: a line sample and a
/// name per entry, sized with the real text widths.
fn draw_legend(area: &Area, entries: &[(&str, RGBColor, u32)]) -> Result<(), BoxError> {
    let font = TextStyle::from((SANS, 14).into_font());
    let (width, _) = area.dim_in_pixel();
    let text_w = entries
        .iter()
        .map(|(name, ..)| area.estimate_text_size(name, &font).map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()?;
    let (pad, sample, row) = (8i32, 24i32, 20i32);
    let box_w = pad * 3 + sample + text_w.iter().copied().max().unwrap_or(0) as i32;
    let box_h = pad * 2 + row * entries.len() as i32;
    let x0 = width as i32 - box_w - 10;
    let y0 = 10;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        BLACK.mix(0.35),
    ))?;
    for (i, (name, color, stroke)) in entries.iter().enumerate() {
        let y = y0 + pad + row * i as i32 + row / 2;
        area.draw(&PathElement::new(
            vec![(x0 + pad, y), (x0 + pad + sample, y)],
            color.stroke_width(*stroke),
        ))?;
        let style = font.clone().pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(
            name.to_string(),
            (x0 + pad * 2 + sample, y),
            style,
        ))?;
    }
    Ok(())
}

fn draw_loss(area: &Area, c: &TrainingCurves) -> Result<(), BoxError> {
    let positive = |v: &f64| v.is_finite() && *v > 0.0;
    let all = c
        .batch_losses
        .iter()
        .map(|p| p.1)
        .chain(c.epoch_losses.iter().copied())
        .filter(positive);
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo * 0.8, hi * 1.25)
    } else {
        (0.01, 10.0)
    };

    let mut chart = ChartBuilder::on(area)
        .caption("Training loss (cross-entropy, log scale)", (SANS, 17))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d(
            x_range(c.epochs),
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
        )?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .x_labels(c.epochs.clamp(1, 10) + 1)
        .x_label_formatter(&epoch_label)
        .y_label_formatter(&|y| short_number(*y))
        .label_style((SANS, 14))
        .axis_desc_style((SANS, 15))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let light = RGBColor(130, 170, 225);
    let mid = RGBColor(60, 110, 200);
    let dark = RGBColor(20, 60, 150);
    let batches: Vec<(f64, f64)> = c
        .batch_losses
        .iter()
        .copied()
        .filter(|p| positive(&p.1))
        .collect();
    chart.draw_series(LineSeries::new(
        batches.iter().copied(),
        Color::stroke_width(&light.mix(0.55), 1),
    ))?;
    // A centred moving average over up to SMOOTH batches (fewer for short
    // runs, and symmetric near the ends) shows the trend through the noise.
    let half = (SMOOTH / 2).min(batches.len() / 20);
    let smooth: Vec<(f64, f64)> = (0..batches.len())
        .map(|i| {
            let h = half.min(i).min(batches.len() - 1 - i);
            let window = &batches[i - h..=i + h];
            (
                batches[i].0,
                window.iter().map(|p| p.1).sum::<f64>() / window.len() as f64,
            )
        })
        .collect();
    let smooth_label = format!("moving average ({} batches)", 2 * half + 1);
    if half > 0 {
        chart.draw_series(LineSeries::new(smooth, Color::stroke_width(&mid, 2)))?;
    }
    let epochs: Vec<(f64, f64)> = c
        .epoch_losses
        .iter()
        .enumerate()
        .map(|(i, &l)| ((i + 1) as f64, l))
        .filter(|p| positive(&p.1))
        .collect();
    chart.draw_series(LineSeries::new(
        epochs.iter().copied(),
        Color::stroke_width(&dark, 3),
    ))?;
    chart.draw_series(epochs.iter().map(|&p| Circle::new(p, 5, dark.filled())))?;
    let mut legend = vec![("loss per batch", light, 2)];
    if half > 0 {
        legend.push((smooth_label.as_str(), mid, 2));
    }
    legend.push(("mean over the epoch", dark, 3));
    draw_legend(&chart.plotting_area().strip_coord_spec(), &legend)
}

fn draw_accuracy(area: &Area, c: &TrainingCurves) -> Result<(), BoxError> {
    let percents: Vec<(f64, f64)> = c
        .test_accuracies
        .iter()
        .enumerate()
        .map(|(i, &a)| ((i + 1) as f64, 100.0 * a))
        .collect();
    let lowest = percents.iter().map(|p| p.1).fold(100.0f64, f64::min);
    let lo = (lowest - 1.5).floor().clamp(0.0, 99.0);

    let mut chart = ChartBuilder::on(area)
        .caption("Test accuracy (official test digits)", (SANS, 17))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d(x_range(c.epochs), lo..100.0)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("accuracy (%)")
        .x_labels(c.epochs.clamp(1, 10) + 1)
        .x_label_formatter(&epoch_label)
        .y_label_formatter(&|y| short_number(*y))
        .label_style((SANS, 14))
        .axis_desc_style((SANS, 15))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let green = RGBColor(20, 130, 60);
    chart.draw_series(LineSeries::new(
        percents.iter().copied(),
        Color::stroke_width(&green, 3),
    ))?;
    let label = TextStyle::from((SANS, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(percents.iter().map(|&p| {
        EmptyElement::at(p)
            + Circle::new((0, 0), 5, green.filled())
            + Text::new(format!("{:.2}%", p.1), (0, -9), label.clone())
    }))?;
    Ok(())
}
