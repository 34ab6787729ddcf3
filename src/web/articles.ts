export interface Article {
  slug: string;
  title: string;
  standfirst: string;
  paragraphs: string[];
}

/** The demo newsroom: a few articles, each a page with a commenting embed. */
export const ARTICLES: readonly Article[] = [
  {
    slug: 'harbour-bridge-reopens',
    title: 'Harbour bridge reopens after two years of repairs',
    standfirst: 'Commuters return to the old crossing as the city counts the cost.',
    paragraphs: [
      'The harbour bridge opened to traffic again at dawn on Monday, two years and four months after engineers closed it over corroded cables.',
      'The repair came in under its revised budget, the transport office said, though well above the first estimate.',
      'Cyclists get a separated lane for the first time; the ferry operators who carried the extra passengers are less pleased.',
    ],
  },
  {
    slug: 'library-late-fees',
    title: 'City library drops late fees for good',
    standfirst: 'A trial that brought back thousands of lapsed readers becomes permanent.',
    paragraphs: [
      'After a year without fines, the city library saw returns rise and thirty-one thousand lapsed cards renewed.',
      'The board voted unanimously to make the change permanent. Lost books will still be charged at cost.',
    ],
  },
  {
    slug: 'night-market-returns',
    title: 'The night market is back, and bigger',
    standfirst: 'Ninety stalls, two stages and a new rule on plastic.',
    paragraphs: [
      'The riverside night market returns on Friday with ninety stalls, up from sixty, and a second stage for local bands.',
      'Stallholders must now serve food in reusable or compostable containers; a deposit scheme covers cups.',
    ],
  },
];

export function findArticle(slug: string): Article | undefined {
  return ARTICLES.find((article) => article.slug === slug);
}
