//! The tray icon, drawn in code: a card on a disc whose colour is the overall state, so the icon
//! alone says ready (green), look at me (red), nothing to use (grey), busy (blue). Drawn, not
//! shipped, so every size and state comes from one place and the package carries no image files
//! that could drift from the code.

use crate::state::Overall;
use crate::view::overall_color;

/// Edge of the tray icon in pixels (status-notifier hosts scale it).
pub const SIZE: u32 = 32;

/// The icon for a state, as straight RGBA rows of `size` × `size` pixels.
pub fn rgba(overall: &Overall, size: u32) -> Vec<u8> {
    let color = overall_color(overall);
    let s = size as f32;
    let (cx, cy, r) = (s / 2.0, s / 2.0, s / 2.0 - 0.5);
    // The card: a landscape rectangle in the disc's middle, with a chip.
    let (card_w, card_h) = (s * 0.56, s * 0.38);
    let (card_x, card_y) = (cx - card_w / 2.0, cy - card_h / 2.0);
    let (chip_w, chip_h) = (card_w * 0.26, card_h * 0.34);
    let (chip_x, chip_y) = (card_x + card_w * 0.14, card_y + card_h * 0.3);
    let mut out = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            // One pixel of anti-aliasing at the disc's edge.
            let alpha = (r - d + 0.5).clamp(0.0, 1.0);
            let inside = |x0: f32, y0: f32, w: f32, h: f32| px >= x0 && px < x0 + w && py >= y0 && py < y0 + h;
            let [red, green, blue] = if inside(chip_x, chip_y, chip_w, chip_h) {
                [0xd4, 0xa0, 0x17]
            } else if inside(card_x, card_y, card_w, card_h) {
                [0xff, 0xff, 0xff]
            } else {
                [color.r(), color.g(), color.b()]
            };
            out.extend_from_slice(&[red, green, blue, (alpha * 255.0).round() as u8]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Action;

    #[test]
    fn the_disc_takes_the_state_colour_and_the_corners_are_transparent() {
        let ready = rgba(&Overall::Ready, SIZE);
        let problem = rgba(&Overall::Problem(Action::InsertCard), SIZE);
        assert_eq!(ready.len(), (SIZE * SIZE * 4) as usize);
        assert_eq!(ready[3], 0, "corner pixel is transparent");
        // A pixel on the disc, left of the card.
        let at = |img: &[u8], x: u32, y: u32| {
            let i = ((y * SIZE + x) * 4) as usize;
            [img[i], img[i + 1], img[i + 2], img[i + 3]]
        };
        assert_eq!(at(&ready, 3, SIZE / 2), [0x2e, 0x7d, 0x32, 255]);
        assert_eq!(at(&problem, 3, SIZE / 2), [0xc6, 0x28, 0x28, 255]);
        // The card's white is the same in both.
        assert_eq!(at(&ready, SIZE / 2 + 5, SIZE / 2), [255, 255, 255, 255]);
    }
}
