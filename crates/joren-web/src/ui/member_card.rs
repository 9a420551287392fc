//! The member card (会員証): the shop's name, the customer's name, rank and member number (the
//! customer number), and a QR code of the number for the counter to scan — printed on card
//! stock or shown on the customer's phone. A scanner types the number into the counter's
//! search box as a keyboard would; a phone or tablet with a camera reads it from the counter
//! page (`static/app.js`, where the browser has a barcode reader).

use askama::Template;
use axum::extract::{Path, State};
use qrcode::QrCode;
use qrcode::render::svg;

use super::{Chrome, Staff, UiError, UiResult, render};
use crate::AppState;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("mc.title", "会員証", "Member card"),
    ("mc.number", "会員番号", "Member no."),
    ("mc.rank", "ランク", "Rank"),
    ("mc.print", "印刷する", "Print"),
    (
        "mc.help",
        "印刷してお渡しするか、お客様のスマートフォンで撮影していただきます。レジではQRコードを読み取るか会員番号を入力します。",
        "Print it and hand it over, or let the customer take a photo of it. At the counter, scan the QR code or type the member number.",
    ),
    ("mc.scan", "カメラで読み取る", "Scan with the camera"),
    ("mc.scan_stop", "読み取りをやめる", "Stop scanning"),
];

/// The QR code of a member number as an SVG drawing (dark modules on white, 4-module quiet
/// zone, error correction M).
pub(crate) fn member_qr_svg(number: &str) -> String {
    match QrCode::new(number.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(160, 160)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

#[derive(Template)]
#[template(path = "member_card.html")]
pub(super) struct MemberCardPage {
    c: Chrome,
    shop: String,
    name: String,
    number: String,
    rank: Option<String>,
    qr: String,
}

/// `GET /customers/{id}/card`.
pub(super) async fn page(State(s): State<AppState>, Staff { user, t }: Staff, Path(id): Path<i64>) -> UiResult {
    let card = s.app.counter_card(id).await.map_err(|e| UiError::from_app(t, e))?;
    let number = id.to_string();
    Ok(render(&MemberCardPage {
        c: Chrome::new(t, &user, "customers", format!("/customers/{id}/card")),
        shop: s.app.mail().shop_name.clone(),
        name: card.customer.display_name,
        qr: member_qr_svg(&number),
        number,
        rank: card.rank,
    }))
}

#[cfg(test)]
mod tests {
    /// The drawing on the card is a QR code that reads back as the member number: its dark
    /// squares (`M x y h w v h h -w z` in the path) are painted onto a grey image and decoded
    /// by an independent reader.
    #[test]
    fn the_card_code_reads_back_as_the_member_number() {
        let svg = super::member_qr_svg("1024");
        let size: usize = svg.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        let d = svg.split(" d=\"").nth(1).expect("one path of dark squares").split('"').next().unwrap();
        let mut dark = vec![false; size * size];
        let mut squares = 0;
        for part in d.split('M').filter(|p| !p.trim().is_empty()) {
            let nums: Vec<usize> = part
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            let (x, y, w, h) = (nums[0], nums[1], nums[2], nums[3]);
            for yy in y..(y + h).min(size) {
                for xx in x..(x + w).min(size) {
                    dark[yy * size + xx] = true;
                }
            }
            squares += 1;
        }
        assert!(squares > 50, "{squares} squares");
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| if dark[y * size + x] { 0 } else { 255 });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one code on the card");
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, "1024");
    }
}
