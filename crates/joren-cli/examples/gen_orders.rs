//! Writes a synthetic shop orders CSV for the import benchmark:
//! `cargo run --release --example gen_orders -- ORDERS CUSTOMERS OUT.csv`
//! One row per line item (1–3 per order), the layout a Japanese shop system exports.

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let orders: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let customers: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let out = args.get(3).cloned().unwrap_or_else(|| "/tmp/joren_orders_1m.csv".into());
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    writeln!(w, "注文番号,顧客番号,メールアドレス,注文日時,商品コード,商品名,カテゴリ,数量,単価,税率,販売チャネル")?;
    let products = [
        ("BN-BLD", "つねやブレンド 200g", "珈琲豆", 1400, 8),
        ("BN-ETH", "エチオピア 200g", "珈琲豆", 1800, 8),
        ("SW-FIN", "フィナンシェ 5個入", "焼き菓子", 1200, 8),
        ("TL-DRP", "ハンドドリッパー", "器具", 3300, 10),
        ("TL-PPR", "ペーパーフィルター", "器具", 440, 10),
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rows = 0u64;
    for o in 1..=orders {
        let c = next() % customers + 1;
        let day = next() % 730;
        let (y, m, d) = joren_analytics::log::civil_from_days(20089 + day as i32);
        let time = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:00", 10 + next() % 10, next() % 60);
        let lines = 1 + (next() % 10).saturating_sub(6).min(2);
        let channel = if next() % 3 == 0 { "通販" } else { "店舗" };
        for l in 0..lines {
            let (sku, name, cat, price, tax) = products[((next() + l) % products.len() as u64) as usize];
            writeln!(
                w,
                "O{o:08},C{c:06},c{c:06}@example.jp,{time},{sku},{name},{cat},{},{price},{tax}%,{channel}",
                1 + next() % 2
            )?;
            rows += 1;
        }
    }
    w.flush()?;
    eprintln!("wrote {orders} orders ({rows} rows, {customers} customers) to {out}");
    Ok(())
}
