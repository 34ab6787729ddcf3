import type { Clock } from '../clock';

export interface EmbedComment {
  id: number;
  userId: number;
  name: string;
  text: string;
  createdAt: number;
}

/** Bounds that keep a long-running emulator's memory flat; the oldest entries make room. */
const MAX_COMMENTS_PER_PAGE = 100;
const MAX_PAGES = 1000;

/** The embed's comments, kept in memory per page: enough to make the widget feel real. */
export function createCommentBoard(clock: Clock) {
  const pages = new Map<string, EmbedComment[]>();
  let nextId = 1;

  return {
    list(page: string): EmbedComment[] {
      return (pages.get(page) ?? []).map((comment) => ({ ...comment }));
    },
    add(page: string, author: { userId: number; name: string }, text: string): EmbedComment {
      let comments = pages.get(page);
      if (!comments) {
        if (pages.size >= MAX_PAGES) pages.delete(pages.keys().next().value!);
        comments = [];
        pages.set(page, comments);
      }
      const comment = { id: nextId, userId: author.userId, name: author.name, text, createdAt: clock.now() };
      nextId += 1;
      comments.push(comment);
      if (comments.length > MAX_COMMENTS_PER_PAGE) comments.shift();
      return { ...comment };
    },
  };
}

export type CommentBoard = ReturnType<typeof createCommentBoard>;
