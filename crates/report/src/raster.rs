//! The report's SVG figures as PNG, for the Word document: resvg with the fonts bundled in
//! `assets/fonts` (Liberation Sans, Arial's metrics, for the figures' Helvetica/Arial text) and
//! no system fonts, so every machine draws the same pixels.

use resvg::{tiny_skia, usvg};

const REGULAR: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Bold.ttf");

/// A rasteriser with its fonts loaded once.
pub struct Raster {
    opt: usvg::Options<'static>,
}

/// A figure as PNG: its bytes and its size in pixels at scale 1 (the SVG's own units).
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: f32,
    pub height: f32,
}

impl Default for Raster {
    fn default() -> Self {
        Self::new()
    }
}

impl Raster {
    pub fn new() -> Raster {
        let mut opt = usvg::Options::default();
        let db = opt.fontdb_mut();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("Liberation Sans");
        opt.font_family = "Liberation Sans".into();
        Raster { opt }
    }

    /// The SVG drawn at `scale` pixels per SVG unit.
    pub fn png(&self, svg: &str, scale: f32) -> Result<Png, String> {
        let tree = usvg::Tree::from_str(svg, &self.opt).map_err(|e| e.to_string())?;
        let size = tree.size();
        let (w, h) = (
            (size.width() * scale).ceil() as u32,
            (size.height() * scale).ceil() as u32,
        );
        let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or("a figure of no size")?;
        pixmap.fill(tiny_skia::Color::WHITE);
        let at = tiny_skia::Transform::from_scale(scale, scale);
        resvg::render(&tree, at, &mut pixmap.as_mut());
        let bytes = pixmap.encode_png().map_err(|e| e.to_string())?;
        Ok(Png {
            bytes,
            width: size.width(),
            height: size.height(),
        })
    }
}
