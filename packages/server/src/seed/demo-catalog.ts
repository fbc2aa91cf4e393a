import { withEan13CheckDigit } from './ean13.js';

/*
 * The demo store's catalog, generated deterministically (same input, same catalog, no randomness)
 * from short lists: brand × item × pack size per category, plus about twenty weighed items priced
 * per kg. Brands are invented. Barcodes:
 *   - packaged goods: a real-looking GS1 Germany manufacturer prefix (400–440 range, 7 digits
 *     per brand), a 5-digit item reference, the check digit;
 *   - weighed goods: a GS1 in-store variable-measure code, prefix 21, a 5-digit PLU, a 5-digit
 *     weight field (grams, zero in the stored template) and the check digit. A scale label
 *     carries the same first 7 digits with the real weight; the register matches on them.
 */

/** Which of the store's two VAT rates applies. */
export type TaxClass = 'standard' | 'reduced';

/** One product of the demo catalog, before ids are assigned. */
export interface DemoProduct {
  readonly sku: string;
  readonly name: string;
  readonly categoryName: string;
  /** Minor units (cents); per kg when `weighed`. */
  readonly priceMinor: number;
  readonly taxClass: TaxClass;
  readonly weighed: boolean;
  readonly barcode: string;
}

/** A demo category and its products' tax class. */
export interface DemoCategory {
  readonly name: string;
  readonly skuPrefix: string;
  readonly taxClass: TaxClass;
}

type Item = readonly [name: string, sizes: readonly (readonly [label: string, cents: number])[]];

interface PackagedCategory extends DemoCategory {
  readonly brands: readonly string[];
  readonly items: readonly Item[];
}

const PACKAGED: readonly PackagedCategory[] = [
  {
    name: 'Getränke',
    skuPrefix: 'GET',
    taxClass: 'standard',
    brands: ['Bergquell', 'Sonnhof', 'Rheintaler', 'Nordbrise', 'Quellgut'],
    items: [
      ['Mineralwasser still', [['0,5 l', 49], ['1,5 l', 69]]],
      ['Mineralwasser medium', [['0,5 l', 49], ['1,5 l', 69]]],
      ['Mineralwasser classic', [['0,75 l', 59], ['1,5 l', 69]]],
      ['Apfelsaft klar', [['1 l', 129]]],
      ['Apfelsaft naturtrüb', [['1 l', 149]]],
      ['Orangensaft', [['1 l', 159]]],
      ['Multivitaminsaft', [['1 l', 149]]],
      ['Apfelschorle', [['0,5 l', 89], ['1,5 l', 119]]],
      ['Cola', [['0,5 l', 109], ['1,5 l', 159]]],
      ['Cola zuckerfrei', [['0,5 l', 109], ['1,5 l', 159]]],
      ['Zitronenlimonade', [['0,5 l', 99], ['1 l', 139]]],
      ['Eistee Pfirsich', [['0,5 l', 99], ['1,5 l', 149]]],
      ['Radler alkoholfrei', [['0,5 l', 89]]],
    ],
  },
  {
    name: 'Molkereiprodukte',
    skuPrefix: 'MOL',
    taxClass: 'reduced',
    brands: ['Alpenhof', 'Weidegrün', 'Milchhof Sander', 'Hofgut Berger'],
    items: [
      ['Frische Vollmilch 3,5 %', [['1 l', 119]]],
      ['H-Milch 1,5 %', [['1 l', 99]]],
      ['Joghurt natur 3,5 %', [['500 g', 79], ['150 g', 39]]],
      ['Sahnejoghurt Erdbeere', [['150 g', 49]]],
      ['Speisequark 20 %', [['500 g', 89]]],
      ['Süßrahmbutter', [['250 g', 229]]],
      ['Schlagsahne 30 %', [['200 g', 109]]],
      ['Gouda jung in Scheiben', [['200 g', 199]]],
      ['Emmentaler gerieben', [['200 g', 179]]],
      ['Frischkäse Kräuter', [['200 g', 129]]],
      ['Kefir mild', [['500 g', 119]]],
      ['Buttermilch', [['500 g', 69]]],
    ],
  },
  {
    name: 'Backwaren',
    skuPrefix: 'BAK',
    taxClass: 'reduced',
    brands: ['Goldkorn', 'Kornmühle', 'Backstube Lindner', 'Ofenfrisch'],
    items: [
      ['Roggenmischbrot', [['750 g', 249]]],
      ['Vollkornbrot', [['500 g', 199]]],
      ['Buttertoast', [['500 g', 129]]],
      ['Vollkorntoast', [['500 g', 139]]],
      ['Weizenbrötchen', [['6 Stück', 149]]],
      ['Dinkelbrötchen', [['4 Stück', 179]]],
      ['Laugenbrezeln', [['4 Stück', 219]]],
      ['Croissants', [['4 Stück', 249]]],
      ['Baguette', [['250 g', 119]]],
      ['Butterkuchen', [['400 g', 299]]],
      ['Knäckebrot Roggen', [['250 g', 149]]],
      ['Zwieback', [['225 g', 129]]],
    ],
  },
  {
    name: 'Snacks & Süßwaren',
    skuPrefix: 'SNA',
    taxClass: 'reduced',
    brands: ['Knusperwerk', 'Süßes Eck', 'Nordkeks', 'Crunchy Bay', 'Naschwerk'],
    items: [
      ['Kartoffelchips Paprika', [['150 g', 149], ['200 g', 189]]],
      ['Kartoffelchips gesalzen', [['150 g', 149], ['200 g', 189]]],
      ['Erdnussflips', [['200 g', 129]]],
      ['Vollmilchschokolade', [['100 g', 119], ['200 g', 219]]],
      ['Zartbitterschokolade 70 %', [['100 g', 149]]],
      ['Butterkekse', [['200 g', 99]]],
      ['Fruchtgummi', [['200 g', 99], ['500 g', 219]]],
      ['Salzstangen', [['250 g', 89]]],
      ['Müsliriegel Schoko', [['6 Stück', 199]]],
      ['Studentenfutter', [['200 g', 249]]],
    ],
  },
  {
    name: 'Vorrat',
    skuPrefix: 'VOR',
    taxClass: 'reduced',
    brands: ['Gutes Land', 'Feldkrone', 'Mühlenhof', 'Sonnenacker', 'Vorratskammer'],
    items: [
      ['Weizenmehl Type 405', [['1 kg', 79]]],
      ['Dinkelmehl Type 630', [['1 kg', 159]]],
      ['Zucker', [['1 kg', 109]]],
      ['Spaghetti', [['500 g', 99]]],
      ['Penne Rigate', [['500 g', 99]]],
      ['Basmatireis', [['1 kg', 249], ['500 g', 149]]],
      ['Haferflocken zart', [['500 g', 89]]],
      ['Tomaten passiert', [['500 g', 69]]],
      ['Kidneybohnen', [['400 g', 79]]],
      ['Olivenöl nativ extra', [['500 ml', 599]]],
      ['Sonnenblumenöl', [['1 l', 229]]],
      ['Kaffee gemahlen', [['500 g', 599]]],
      ['Schwarzer Tee', [['20 Beutel', 149]]],
      ['Honig cremig', [['500 g', 449]]],
      ['Erdbeerkonfitüre', [['450 g', 189]]],
    ],
  },
  {
    name: 'Tiefkühl',
    skuPrefix: 'TKK',
    taxClass: 'reduced',
    brands: ['Eiskristall', 'Frostgut', 'Polarstern'],
    items: [
      ['Pizza Margherita', [['350 g', 229]]],
      ['Pizza Salami', [['360 g', 249]]],
      ['Rahmspinat', [['450 g', 149]]],
      ['Erbsen fein', [['750 g', 179]]],
      ['Fischstäbchen', [['15 Stück', 299]]],
      ['Pommes frites', [['1 kg', 199]]],
      ['Vanilleeis', [['1 l', 249]]],
      ['Himbeeren', [['300 g', 279]]],
      ['Gemüsepfanne', [['750 g', 229]]],
    ],
  },
  {
    name: 'Haushalt',
    skuPrefix: 'HAU',
    taxClass: 'standard',
    brands: ['Glanzwerk', 'Frischeklar', 'HausPro', 'Klarwerk'],
    items: [
      ['Spülmittel Zitrone', [['500 ml', 99]]],
      ['Allzweckreiniger', [['1 l', 149]]],
      ['Küchenrolle', [['4 Rollen', 249]]],
      ['Toilettenpapier 3-lagig', [['8 Rollen', 349], ['16 Rollen', 629]]],
      ['Müllbeutel 35 l', [['20 Stück', 179]]],
      ['Flüssigwaschmittel', [['20 WL', 499]]],
      ['Schwammtücher', [['3 Stück', 129]]],
      ['Alufolie', [['30 m', 219]]],
      ['Gefrierbeutel 3 l', [['25 Stück', 119]]],
      ['Glasreiniger', [['500 ml', 169]]],
      ['Geschirrspültabs', [['30 Stück', 399]]],
    ],
  },
  {
    name: 'Drogerie',
    skuPrefix: 'DRO',
    taxClass: 'standard',
    brands: ['Sanfte Pflege', 'Aquamed', 'Floralis', 'Vitalis'],
    items: [
      ['Duschgel Sensitiv', [['250 ml', 129]]],
      ['Shampoo Repair', [['300 ml', 189]]],
      ['Zahnpasta Kräuter', [['75 ml', 99]]],
      ['Flüssigseife', [['300 ml', 119]]],
      ['Deospray', [['150 ml', 179]]],
      ['Bodylotion', [['400 ml', 249]]],
      ['Taschentücher', [['10 × 10 Stück', 99]]],
      ['Wattepads', [['80 Stück', 79]]],
      ['Handcreme', [['75 ml', 149]]],
    ],
  },
  {
    name: 'Schreibwaren',
    skuPrefix: 'SCH',
    taxClass: 'standard',
    brands: ['Papierwerk', 'Schreibgut', 'Kontor', 'Bürofix'],
    items: [
      ['Kugelschreiber blau', [['1 Stück', 99], ['5 Stück', 399]]],
      ['Bleistift HB', [['3 Stück', 149]]],
      ['Collegeblock A4 kariert', [['80 Blatt', 199]]],
      ['Collegeblock A4 liniert', [['80 Blatt', 199]]],
      ['Briefumschläge DIN lang', [['25 Stück', 149]]],
      ['Textmarker gelb', [['1 Stück', 119]]],
      ['Klebestift', [['20 g', 129]]],
      ['Radiergummi', [['1 Stück', 59]]],
      ['Haftnotizen 76 × 76 mm', [['100 Blatt', 199]]],
      ['Heftklammern 24/6', [['1000 Stück', 89]]],
      ['Schnellhefter A4', [['5 Stück', 249]]],
    ],
  },
];

/** Price factor per brand position: a house brand, a mid brand, a premium brand, … */
const BRAND_FACTORS = [1, 1.18, 0.86, 1.32, 1.07];

const WEIGHED_CATEGORIES: readonly DemoCategory[] = [
  { name: 'Obst & Gemüse', skuPrefix: 'OBG', taxClass: 'reduced' },
  { name: 'Käsetheke', skuPrefix: 'KAE', taxClass: 'reduced' },
];

/** [category index in WEIGHED_CATEGORIES, name, price per kg in cents] */
const WEIGHED: readonly (readonly [number, string, number])[] = [
  [0, 'Äpfel Elstar', 249],
  [0, 'Äpfel Braeburn', 269],
  [0, 'Bananen', 169],
  [0, 'Birnen Conference', 299],
  [0, 'Rispentomaten', 349],
  [0, 'Kartoffeln festkochend', 149],
  [0, 'Zwiebeln gelb', 129],
  [0, 'Möhren', 139],
  [0, 'Paprika rot', 499],
  [0, 'Zucchini', 299],
  [0, 'Champignons braun', 599],
  [0, 'Tafeltrauben hell', 449],
  [0, 'Orangen', 229],
  [0, 'Zitronen', 349],
  [0, 'Mandarinen', 279],
  [0, 'Brokkoli', 399],
  [1, 'Gouda mittelalt am Stück', 1190],
  [1, 'Bergkäse am Stück', 2490],
  [1, 'Schafskäse', 1490],
  [1, 'Emmentaler am Stück', 1590],
];

/** Rounds to a shelf price ending in 9 cents. */
function shelfPrice(cents: number): number {
  return Math.max(9, Math.round(cents / 10) * 10 - 1);
}

/** A 7-digit GS1 Germany-style manufacturer prefix for the n-th brand, stable and distinct. */
function manufacturerPrefix(brandIndex: number): string {
  return `40${10_000 + ((2_345 + brandIndex * 4_711) % 90_000)}`;
}

/** Every category of the demo catalog, packaged first, then the weighed ones. */
export const demoCategories: readonly DemoCategory[] = [
  ...PACKAGED.map(({ name, skuPrefix, taxClass }) => ({ name, skuPrefix, taxClass })),
  ...WEIGHED_CATEGORIES,
];

/**
 * The demo catalog: the same list on every call.
 *
 * @example
 * ```ts
 * const products = demoCatalog();
 * products.length; // > 500
 * products.filter((p) => p.weighed).length; // 20
 * ```
 */
export function demoCatalog(): DemoProduct[] {
  const out: DemoProduct[] = [];
  let brandIndex = 0;
  const brandPrefixes = new Map<string, string>();
  const brandItemCounter = new Map<string, number>();
  for (const category of PACKAGED) {
    let skuCounter = 0;
    category.brands.forEach((brand, position) => {
      if (!brandPrefixes.has(brand)) brandPrefixes.set(brand, manufacturerPrefix(brandIndex++));
      const factor = BRAND_FACTORS[position % BRAND_FACTORS.length] ?? 1;
      for (const [itemName, sizes] of category.items) {
        for (const [size, cents] of sizes) {
          const itemRef = (brandItemCounter.get(brand) ?? 0) + 1;
          brandItemCounter.set(brand, itemRef);
          skuCounter += 1;
          out.push({
            sku: `${category.skuPrefix}-${String(skuCounter).padStart(4, '0')}`,
            name: `${brand} ${itemName} ${size}`,
            categoryName: category.name,
            priceMinor: shelfPrice(cents * factor),
            taxClass: category.taxClass,
            weighed: false,
            barcode: withEan13CheckDigit(`${brandPrefixes.get(brand) ?? ''}${String(itemRef).padStart(5, '0')}`),
          });
        }
      }
    });
  }
  const weighedCounters = new Map<number, number>();
  WEIGHED.forEach(([categoryIndex, name, centsPerKg], i) => {
    const category = WEIGHED_CATEGORIES[categoryIndex];
    if (category === undefined) throw new Error(`no weighed category ${categoryIndex}`);
    const n = (weighedCounters.get(categoryIndex) ?? 0) + 1;
    weighedCounters.set(categoryIndex, n);
    const plu = String(101 + i).padStart(5, '0');
    out.push({
      sku: `${category.skuPrefix}-${String(n).padStart(4, '0')}`,
      name,
      categoryName: category.name,
      priceMinor: centsPerKg,
      taxClass: category.taxClass,
      weighed: true,
      barcode: withEan13CheckDigit(`21${plu}00000`),
    });
  });
  return out;
}
