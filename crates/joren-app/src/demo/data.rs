//! The demo shop's made-up people and its product list.

/// Common surnames with their readings.
pub const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("斉藤", "サイトウ"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
];

/// Given names (female) with readings.
pub const FEMALE: &[(&str, &str)] = &[
    ("陽菜", "ヒナ"),
    ("結衣", "ユイ"),
    ("美咲", "ミサキ"),
    ("さくら", "サクラ"),
    ("葵", "アオイ"),
    ("花子", "ハナコ"),
    ("優子", "ユウコ"),
    ("恵子", "ケイコ"),
    ("由美", "ユミ"),
    ("真由美", "マユミ"),
    ("裕子", "ユウコ"),
    ("愛", "アイ"),
    ("彩", "アヤ"),
    ("千尋", "チヒロ"),
    ("明美", "アケミ"),
    ("直子", "ナオコ"),
    ("久美子", "クミコ"),
    ("舞", "マイ"),
    ("遥", "ハルカ"),
    ("凛", "リン"),
];

/// Given names (male) with readings.
pub const MALE: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("健一", "ケンイチ"),
    ("誠", "マコト"),
    ("拓也", "タクヤ"),
    ("直樹", "ナオキ"),
    ("浩", "ヒロシ"),
    ("蓮", "レン"),
    ("悠真", "ユウマ"),
    ("一郎", "イチロウ"),
    ("和也", "カズヤ"),
    ("隆", "タカシ"),
    ("学", "マナブ"),
    ("亮", "リョウ"),
    ("剛", "ツヨシ"),
    ("修", "オサム"),
    ("陽斗", "ハルト"),
    ("湊", "ミナト"),
    ("大和", "ヤマト"),
];

pub(super) const PREFECTURES: &[(&str, &str, u32)] = &[
    ("東京都", "世田谷区", 30),
    ("神奈川県", "横浜市青葉区", 15),
    ("埼玉県", "さいたま市浦和区", 10),
    ("千葉県", "船橋市", 8),
    ("大阪府", "大阪市北区", 8),
    ("愛知県", "名古屋市中区", 6),
    ("福岡県", "福岡市中央区", 5),
    ("北海道", "札幌市中央区", 4),
    ("京都府", "京都市左京区", 4),
    ("兵庫県", "神戸市東灘区", 4),
    ("宮城県", "仙台市青葉区", 3),
    ("静岡県", "静岡市葵区", 3),
];

pub(super) struct Product {
    pub(super) sku: &'static str,
    pub(super) name: &'static str,
    pub(super) category: &'static str,
    pub(super) price: i64,
    pub(super) tax: i64,
}

pub(super) const BEANS: &[Product] = &[
    Product { sku: "BN-BLD", name: "つねやブレンド 200g", category: "珈琲豆", price: 1400, tax: 8 },
    Product {
        sku: "BN-ETH", name: "エチオピア イルガチェフェ 200g", category: "珈琲豆", price: 1800, tax: 8
    },
    Product { sku: "BN-COL", name: "コロンビア スプレモ 200g", category: "珈琲豆", price: 1600, tax: 8 },
    Product { sku: "BN-MAN", name: "マンデリン 200g", category: "珈琲豆", price: 1700, tax: 8 },
    Product { sku: "BN-DEC", name: "デカフェ 200g", category: "珈琲豆", price: 1900, tax: 8 },
];
pub(super) const SWEETS: &[Product] = &[
    Product { sku: "SW-FIN", name: "フィナンシェ 5個入", category: "焼き菓子", price: 1200, tax: 8 },
    Product { sku: "SW-CKI", name: "クッキー缶", category: "焼き菓子", price: 2800, tax: 8 },
    Product { sku: "SW-PND", name: "季節のパウンドケーキ", category: "焼き菓子", price: 2200, tax: 8 },
];
pub(super) const TOOLS: &[Product] = &[
    Product { sku: "TL-DRP", name: "ハンドドリッパー", category: "器具", price: 3300, tax: 10 },
    Product { sku: "TL-MIL", name: "手挽きコーヒーミル", category: "器具", price: 8800, tax: 10 },
    Product { sku: "TL-KTL", name: "ドリップケトル", category: "器具", price: 6600, tax: 10 },
    Product { sku: "TL-PPR", name: "ペーパーフィルター 100枚", category: "器具", price: 440, tax: 10 },
];
pub(super) const GIFTS: &[Product] = &[
    Product { sku: "GF-SUM", name: "夏のギフトセット (お中元)", category: "ギフト", price: 4400, tax: 8 },
    Product { sku: "GF-WIN", name: "冬のギフトセット (お歳暮)", category: "ギフト", price: 5500, tax: 8 },
];
